import { beforeAll, describe, expect, it } from 'vitest';
import { DuplicateError, ForeignKeyError, NotFoundError, ValidationError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
beforeAll(async () => {
  stores = createStores(db.sql);
  await stores.tenants.create({ id: 'a', name: 'Tenant A' });
  await stores.tenants.create({ id: 'b', name: 'Tenant B' });
});

describe('apps store', () => {
  it('creates, gets, finds by name and checks existence', async () => {
    const app = await stores.apps.create({
      tenantId: 'a',
      id: 'web',
      name: 'Web shop',
      type: 'web',
      config: { theme: 'dark' },
    });
    expect(app).toMatchObject({
      tenantId: 'a',
      id: 'web',
      name: 'Web shop',
      type: 'web',
      status: 'active',
      config: { theme: 'dark' },
      metadata: {},
    });
    expect(await stores.apps.get('a', 'web')).toEqual(app);
    expect(await stores.apps.getByName('a', 'Web shop')).toEqual(app);
    expect(await stores.apps.exists('a', 'web')).toBe(true);
    expect(await stores.apps.get('a', 'nope')).toBeNull();
    expect(await stores.apps.exists('a', 'nope')).toBe(false);
  });

  it('is tenant-scoped: an app of tenant A is invisible through tenant B', async () => {
    await stores.apps.create({ tenantId: 'a', id: 'secret-app', name: 'Secret', type: 'api' });
    expect(await stores.apps.get('b', 'secret-app')).toBeNull();
    expect(await stores.apps.getByName('b', 'Secret')).toBeNull();
    expect(await stores.apps.exists('b', 'secret-app')).toBe(false);
    expect(await stores.apps.listByType('b', 'api')).toEqual([]);
    await expect(stores.apps.update('b', 'secret-app', { name: 'Hijacked' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.apps.delete('b', 'secret-app')).rejects.toBeInstanceOf(NotFoundError);
    expect((await stores.apps.get('a', 'secret-app'))?.name).toBe('Secret');
    // The same id and name may exist in another tenant.
    const other = await stores.apps.create({ tenantId: 'b', id: 'secret-app', name: 'Secret', type: 'api' });
    expect(other.tenantId).toBe('b');
  });

  it('names the duplicate field (id, or name per tenant) and refuses unknown tenants', async () => {
    await stores.apps.create({ tenantId: 'a', id: 'dup', name: 'Dup', type: 'web' });
    const byId = await stores.apps
      .create({ tenantId: 'a', id: 'dup', name: 'Other', type: 'web' })
      .catch((e: unknown) => e);
    expect(byId).toBeInstanceOf(DuplicateError);
    expect((byId as DuplicateError).field).toBe('id');
    const byName = await stores.apps
      .create({ tenantId: 'a', id: 'dup2', name: 'Dup', type: 'web' })
      .catch((e: unknown) => e);
    expect((byName as DuplicateError).field).toBe('name');
    const fk = await stores.apps
      .create({ tenantId: 'nobody', id: 'x', name: 'X', type: 'web' })
      .catch((e: unknown) => e);
    expect(fk).toBeInstanceOf(ForeignKeyError);
    expect((fk as Error).message).toContain('tenant nobody does not exist');
    const notObject = await stores.apps
      .create({ tenantId: 'a', id: 'arr', name: 'Arr', type: 'web', config: [1] as never })
      .catch((e: unknown) => e);
    expect(notObject).toBeInstanceOf(ValidationError);
    expect((notObject as ValidationError).field).toBe('config');
  });

  it('lists by type within the tenant', async () => {
    await stores.apps.create({ tenantId: 'b', id: 'ios', name: 'iOS', type: 'mobile' });
    await stores.apps.create({ tenantId: 'b', id: 'android', name: 'Android', type: 'mobile' });
    await stores.apps.create({ tenantId: 'a', id: 'a-mobile', name: 'A mobile', type: 'mobile' });
    expect((await stores.apps.listByType('b', 'mobile')).map((a) => a.id)).toEqual(['ios', 'android']);
    expect((await stores.apps.listByType('b', 'mobile', { limit: 1, offset: 1 })).map((a) => a.id)).toEqual([
      'android',
    ]);
    expect((await stores.apps.list('b')).every((a) => a.tenantId === 'b')).toBe(true);
  });

  it('updates, refuses a taken name, and NotFoundError for a missing app', async () => {
    await stores.apps.create({ tenantId: 'a', id: 'u1', name: 'U1', type: 'web' });
    await stores.apps.create({ tenantId: 'a', id: 'u2', name: 'U2', type: 'web' });
    const updated = await stores.apps.update('a', 'u1', {
      name: 'U1 renamed',
      status: 'disabled',
      metadata: { k: 'v' },
    });
    expect(updated).toMatchObject({ name: 'U1 renamed', status: 'disabled', metadata: { k: 'v' }, type: 'web' });
    const clash = await stores.apps.update('a', 'u2', { name: 'U1 renamed' }).catch((e: unknown) => e);
    expect((clash as DuplicateError).field).toBe('name');
    await expect(stores.apps.update('a', 'missing', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.apps.update('a', 'missing', {})).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes with its branches and keys; deleting again is NotFoundError', async () => {
    await stores.apps.create({ tenantId: 'a', id: 'del', name: 'Del', type: 'web' });
    await stores.branches.create({ tenantId: 'a', appId: 'del', id: 'b1', code: 'B1', name: 'B1', type: 'store' });
    const { secret } = await stores.appKeys.create({ tenantId: 'a', appId: 'del' });
    await stores.apps.delete('a', 'del');
    expect(await stores.apps.exists('a', 'del')).toBe(false);
    expect(await stores.branches.exists('a', 'del', 'b1')).toBe(false);
    expect(await stores.appKeys.verify(secret)).toBeNull();
    await expect(stores.apps.delete('a', 'del')).rejects.toBeInstanceOf(NotFoundError);
  });
});
