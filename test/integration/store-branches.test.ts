import { beforeAll, describe, expect, it } from 'vitest';
import { DuplicateError, ForeignKeyError, NotFoundError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
beforeAll(async () => {
  stores = createStores(db.sql);
  await stores.tenants.create({ id: 'a', name: 'Tenant A' });
  await stores.tenants.create({ id: 'b', name: 'Tenant B' });
  await stores.apps.create({ tenantId: 'a', id: 'pos', name: 'POS', type: 'service' });
  await stores.apps.create({ tenantId: 'a', id: 'erp', name: 'ERP', type: 'service' });
  await stores.apps.create({ tenantId: 'b', id: 'pos', name: 'POS', type: 'service' });
});

describe('branches store', () => {
  it('creates and reads a branch, by id and by code', async () => {
    const branch = await stores.branches.create({
      tenantId: 'a',
      appId: 'pos',
      id: 'hq',
      code: 'HQ',
      name: 'Headquarters',
      type: 'office',
      address: { city: 'Lyon' },
    });
    expect(branch).toMatchObject({
      tenantId: 'a',
      appId: 'pos',
      id: 'hq',
      code: 'HQ',
      status: 'active',
      address: { city: 'Lyon' },
      contact: null,
      settings: {},
      metadata: {},
    });
    expect(await stores.branches.get('a', 'pos', 'hq')).toEqual(branch);
    expect(await stores.branches.getByCode('a', 'pos', 'HQ')).toEqual(branch);
    expect(await stores.branches.exists('a', 'pos', 'hq')).toBe(true);
    expect(await stores.branches.get('a', 'pos', 'nope')).toBeNull();
  });

  it('is scoped by tenant and app', async () => {
    await stores.branches.create({
      tenantId: 'a',
      appId: 'pos',
      id: 'only-a',
      code: 'OA',
      name: 'Only A',
      type: 'store',
    });
    expect(await stores.branches.get('b', 'pos', 'only-a')).toBeNull();
    expect(await stores.branches.get('a', 'erp', 'only-a')).toBeNull();
    expect(await stores.branches.exists('b', 'pos', 'only-a')).toBe(false);
    expect(await stores.branches.list('b', 'pos')).toEqual([]);
    await expect(stores.branches.update('b', 'pos', 'only-a', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.branches.delete('b', 'pos', 'only-a')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('code is unique per app: DuplicateError field "code" on create and update', async () => {
    await stores.branches.create({ tenantId: 'a', appId: 'pos', id: 's1', code: 'S1', name: 'Store 1', type: 'store' });
    await stores.branches.create({ tenantId: 'a', appId: 'pos', id: 's2', code: 'S2', name: 'Store 2', type: 'store' });
    const onCreate = await stores.branches
      .create({ tenantId: 'a', appId: 'pos', id: 's3', code: 'S1', name: 'x', type: 'store' })
      .catch((e: unknown) => e);
    expect(onCreate).toBeInstanceOf(DuplicateError);
    expect((onCreate as DuplicateError).field).toBe('code');
    const onUpdate = await stores.branches.update('a', 'pos', 's2', { code: 'S1' }).catch((e: unknown) => e);
    expect(onUpdate).toBeInstanceOf(DuplicateError);
    expect((onUpdate as DuplicateError).field).toBe('code');
    const dupId = await stores.branches
      .create({ tenantId: 'a', appId: 'pos', id: 's1', code: 'S9', name: 'x', type: 'store' })
      .catch((e: unknown) => e);
    expect((dupId as DuplicateError).field).toBe('id');
    // Another app may use the same code.
    expect(
      (
        await stores.branches.create({
          tenantId: 'a',
          appId: 'erp',
          id: 's1',
          code: 'S1',
          name: 'ERP S1',
          type: 'store',
        })
      ).code,
    ).toBe('S1');
  });

  it('refuses a branch of an unknown app', async () => {
    const fk = await stores.branches
      .create({ tenantId: 'b', appId: 'erp', id: 'x', code: 'X', name: 'X', type: 'store' })
      .catch((e: unknown) => e);
    expect(fk).toBeInstanceOf(ForeignKeyError);
    expect((fk as Error).message).toContain('app b/erp does not exist');
  });

  it('lists by code, and by type', async () => {
    await stores.branches.create({
      tenantId: 'b',
      appId: 'pos',
      id: 'w2',
      code: 'W2',
      name: 'Warehouse 2',
      type: 'warehouse',
    });
    await stores.branches.create({
      tenantId: 'b',
      appId: 'pos',
      id: 'w1',
      code: 'W1',
      name: 'Warehouse 1',
      type: 'warehouse',
    });
    await stores.branches.create({ tenantId: 'b', appId: 'pos', id: 'k1', code: 'K1', name: 'Kiosk', type: 'kiosk' });
    expect((await stores.branches.list('b', 'pos')).map((x) => x.code)).toEqual(['K1', 'W1', 'W2']);
    expect((await stores.branches.listByType('b', 'pos', 'warehouse')).map((x) => x.id)).toEqual(['w1', 'w2']);
    expect((await stores.branches.listByType('b', 'pos', 'warehouse', { limit: 1 })).map((x) => x.id)).toEqual(['w1']);
  });

  it('updates fields (null clears address) and NotFoundError for a missing branch', async () => {
    await stores.branches.create({
      tenantId: 'a',
      appId: 'erp',
      id: 'u',
      code: 'U',
      name: 'U',
      type: 'store',
      address: { street: 'x' },
    });
    const updated = await stores.branches.update('a', 'erp', 'u', {
      address: null,
      contact: { phone: '1' },
      status: 'disabled',
    });
    expect(updated).toMatchObject({ address: null, contact: { phone: '1' }, status: 'disabled', code: 'U' });
    await expect(stores.branches.update('a', 'erp', 'missing', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.branches.update('a', 'erp', 'missing', {})).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes; deleting again is NotFoundError', async () => {
    await stores.branches.create({ tenantId: 'a', appId: 'erp', id: 'd', code: 'D', name: 'D', type: 'store' });
    await stores.branches.delete('a', 'erp', 'd');
    expect(await stores.branches.exists('a', 'erp', 'd')).toBe(false);
    await expect(stores.branches.delete('a', 'erp', 'd')).rejects.toBeInstanceOf(NotFoundError);
  });
});
