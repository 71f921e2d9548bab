import { beforeAll, describe, expect, it } from 'vitest';
import { DuplicateError, NotFoundError, ValidationError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
beforeAll(() => {
  stores = createStores(db.sql);
});

describe('tenants store', () => {
  it('creates a tenant with defaults and reads it back in camelCase', async () => {
    const tenant = await stores.tenants.create({ id: 'acme', name: 'Acme Inc', domain: 'acme.example' });
    expect(tenant).toMatchObject({
      id: 'acme',
      name: 'Acme Inc',
      domain: 'acme.example',
      status: 'active',
      settings: {},
      metadata: {},
      deletedAt: null,
    });
    expect(tenant.createdAt).toBeInstanceOf(Date);
    expect(tenant.updatedAt).toBeInstanceOf(Date);
    expect(await stores.tenants.get('acme')).toEqual(tenant);
    expect(await stores.tenants.getByName('ACME inc')).toEqual(tenant);
    expect(await stores.tenants.exists('acme')).toBe(true);
  });

  it('returns null for a missing tenant and false from exists', async () => {
    expect(await stores.tenants.get('nope')).toBeNull();
    expect(await stores.tenants.getByName('Nope')).toBeNull();
    expect(await stores.tenants.exists('nope')).toBe(false);
  });

  it('refuses a duplicate id or a duplicate name (case-insensitive), naming the field', async () => {
    await stores.tenants.create({ id: 'dup1', name: 'Duplicate Co' });
    const byId = await stores.tenants.create({ id: 'dup1', name: 'Other' }).catch((e: unknown) => e);
    expect(byId).toBeInstanceOf(DuplicateError);
    expect((byId as DuplicateError).field).toBe('id');
    const byName = await stores.tenants.create({ id: 'dup2', name: 'DUPLICATE co' }).catch((e: unknown) => e);
    expect(byName).toBeInstanceOf(DuplicateError);
    expect((byName as DuplicateError).field).toBe('name');
  });

  it('rejects a malformed id or status as ValidationError', async () => {
    const badId = await stores.tenants.create({ id: 'Bad Id', name: 'x' }).catch((e: unknown) => e);
    expect(badId).toBeInstanceOf(ValidationError);
    expect((badId as ValidationError).field).toBe('id');
    const badStatus = await stores.tenants
      .create({ id: 'st', name: 'st', status: 'gone' as never })
      .catch((e: unknown) => e);
    expect(badStatus).toBeInstanceOf(ValidationError);
    expect((badStatus as ValidationError).field).toBe('status');
  });

  it('updates the given fields only; null clears domain; updatedAt moves', async () => {
    const before = await stores.tenants.create({ id: 'upd', name: 'Upd', domain: 'upd.example', settings: { a: 1 } });
    // updatedAt has microseconds, a Date milliseconds: let the clock pass one.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = await stores.tenants.update('upd', { domain: null, settings: { b: 2 }, status: 'suspended' });
    expect(after).toMatchObject({ name: 'Upd', domain: null, settings: { b: 2 }, status: 'suspended' });
    expect(after.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
    expect(await stores.tenants.update('upd', {})).toEqual(after);
  });

  it('update, delete, softDelete and restore of a missing tenant are NotFoundError (never silent)', async () => {
    await expect(stores.tenants.update('missing', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.tenants.update('missing', {})).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.tenants.delete('missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.tenants.softDelete('missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.tenants.restore('missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('soft-deleted tenants are hidden unless asked, free their name, and restore', async () => {
    await stores.tenants.create({ id: 'soft', name: 'Soft Co' });
    const deleted = await stores.tenants.softDelete('soft');
    expect(deleted.deletedAt).toBeInstanceOf(Date);
    expect(await stores.tenants.softDelete('soft')).toEqual(deleted); // idempotent
    expect(await stores.tenants.get('soft')).toBeNull();
    expect(await stores.tenants.get('soft', { includeDeleted: true })).toEqual(deleted);
    expect(await stores.tenants.getByName('Soft Co')).toBeNull();
    expect(await stores.tenants.exists('soft')).toBe(false);
    expect(await stores.tenants.exists('soft', { includeDeleted: true })).toBe(true);
    expect((await stores.tenants.list()).map((t) => t.id)).not.toContain('soft');
    expect((await stores.tenants.list({ includeDeleted: true })).map((t) => t.id)).toContain('soft');
    await expect(stores.tenants.update('soft', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);

    // The name is free again; restoring the old tenant then collides on it.
    await stores.tenants.create({ id: 'soft2', name: 'soft co' });
    const clash = await stores.tenants.restore('soft').catch((e: unknown) => e);
    expect(clash).toBeInstanceOf(DuplicateError);
    expect((clash as DuplicateError).field).toBe('name');

    await stores.tenants.delete('soft2');
    const restored = await stores.tenants.restore('soft');
    expect(restored.deletedAt).toBeNull();
    expect(await stores.tenants.restore('soft')).toEqual(restored); // a live tenant: unchanged
    expect(await stores.tenants.getByName('SOFT CO')).toEqual(restored);
  });

  it('delete is hard and cascades to apps, branches, members, grants and keys', async () => {
    await stores.tenants.create({ id: 'gone', name: 'Gone' });
    await stores.apps.create({ tenantId: 'gone', id: 'web', name: 'Web', type: 'web' });
    await stores.branches.create({ tenantId: 'gone', appId: 'web', id: 'hq', code: 'HQ', name: 'HQ', type: 'office' });
    const [user] = await db.sql<
      { id: string }[]
    >`insert into auth.users (email, name) values ('gone@example.com', 'G') returning id`;
    await stores.memberships.add({ tenantId: 'gone', userId: user!.id, username: 'g' });
    await stores.userApps.grant('gone', 'web', user!.id);
    await stores.appKeys.create({ tenantId: 'gone', appId: 'web', userId: user!.id });

    await stores.tenants.delete('gone');
    expect(await stores.tenants.get('gone', { includeDeleted: true })).toBeNull();
    const [counts] = await db.sql<{ n: number }[]>`
      select (select count(*) from tenancy.apps where tenant_id = 'gone')
           + (select count(*) from tenancy.branches where tenant_id = 'gone')
           + (select count(*) from tenancy.memberships where tenant_id = 'gone')
           + (select count(*) from tenancy.user_apps where tenant_id = 'gone')
           + (select count(*) from tenancy.app_keys where tenant_id = 'gone') as n`;
    expect(Number(counts!.n)).toBe(0);
    await expect(stores.tenants.delete('gone')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists oldest first, with a status filter and paging', async () => {
    for (const id of ['pa', 'pb', 'pc'])
      await stores.tenants.create({ id, name: `Paged ${id}`, status: id === 'pb' ? 'disabled' : 'active' });
    const all = (await stores.tenants.list()).map((t) => t.id);
    expect(all.indexOf('pa')).toBeLessThan(all.indexOf('pb'));
    expect(all.indexOf('pb')).toBeLessThan(all.indexOf('pc'));
    expect((await stores.tenants.list({ status: 'disabled' })).map((t) => t.id)).toEqual(['pb']);
    const page = await stores.tenants.list({ limit: 1, offset: all.indexOf('pb') });
    expect(page.map((t) => t.id)).toEqual(['pb']);
    // Bad paging is a ValidationError naming the field, as in every store (not a driver error).
    await expect(stores.tenants.list({ limit: -1 })).rejects.toMatchObject({ name: 'ValidationError', field: 'limit' });
    await expect(stores.users.list({ offset: 0.5 })).rejects.toBeInstanceOf(ValidationError);
    // A rejected promise, never a synchronous throw.
    await expect(stores.apps.list('pa', { limit: -1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(stores.branches.list('pa', 'web', { offset: -1 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('is all or nothing inside a transaction', async () => {
    await expect(
      db.sql.begin(async (tx) => {
        await createStores(tx).tenants.create({ id: 'txn', name: 'Txn' });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await stores.tenants.exists('txn', { includeDeleted: true })).toBe(false);
  });
});
