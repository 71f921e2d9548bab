import { beforeAll, describe, expect, it } from 'vitest';
import { ForeignKeyError, NotFoundError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;

async function member(tenantId: string, username: string): Promise<string> {
  const [row] = await db.sql<
    { id: string }[]
  >`insert into auth.users (email) values (${`${username}@${tenantId}.example`}) returning id`;
  await stores.memberships.add({ tenantId, userId: row!.id, username });
  return row!.id;
}

beforeAll(async () => {
  stores = createStores(db.sql);
  await stores.tenants.create({ id: 'a', name: 'Tenant A' });
  await stores.tenants.create({ id: 'b', name: 'Tenant B' });
  for (const id of ['web', 'mobile']) await stores.apps.create({ tenantId: 'a', id, name: id, type: id });
  await stores.apps.create({ tenantId: 'b', id: 'web', name: 'web', type: 'web' });
});

describe('userApps store', () => {
  it('grants access; a re-grant is idempotent', async () => {
    const u = await member('a', 'u1');
    const grant = await stores.userApps.grant('a', 'web', u);
    expect(grant).toMatchObject({ tenantId: 'a', appId: 'web', userId: u, status: 'active', revokedAt: null });
    expect(await stores.userApps.hasAccess('a', 'web', u)).toBe(true);
    expect(await stores.userApps.grant('a', 'web', u)).toEqual(grant); // same grantedAt
  });

  it('revokes; revoking again returns the grant unchanged; a re-grant reactivates it', async () => {
    const u = await member('a', 'u2');
    const first = await stores.userApps.grant('a', 'web', u);
    const revoked = await stores.userApps.revoke('a', 'web', u);
    expect(revoked.status).toBe('revoked');
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await stores.userApps.hasAccess('a', 'web', u)).toBe(false);
    expect(await stores.userApps.revoke('a', 'web', u)).toEqual(revoked);
    const again = await stores.userApps.grant('a', 'web', u);
    expect(again).toMatchObject({ status: 'active', revokedAt: null });
    expect(again.grantedAt.getTime()).toBeGreaterThan(first.grantedAt.getTime());
    expect(await stores.userApps.hasAccess('a', 'web', u)).toBe(true);
  });

  it('revoking a grant that does not exist is NotFoundError (never silent)', async () => {
    const u = await member('a', 'u3');
    await expect(stores.userApps.revoke('a', 'web', u)).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.userApps.revoke('a', 'nope', u)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('is tenant-scoped: a grant in A gives nothing in B, and an app of B cannot be granted to a member of A', async () => {
    const u = await member('a', 'u4');
    await stores.userApps.grant('a', 'web', u);
    expect(await stores.userApps.hasAccess('b', 'web', u)).toBe(false);
    expect(await stores.userApps.listUserApps('b', u)).toEqual([]);
    await expect(stores.userApps.revoke('b', 'web', u)).rejects.toBeInstanceOf(NotFoundError);
    const notMember = await stores.userApps.grant('b', 'web', u).catch((e: unknown) => e);
    expect(notMember).toBeInstanceOf(ForeignKeyError);
    expect((notMember as Error).message).toContain('is not a member of tenant b');
    const noApp = await stores.userApps.grant('a', 'nope', u).catch((e: unknown) => e);
    expect(noApp).toBeInstanceOf(ForeignKeyError);
    expect((noApp as Error).message).toContain('app a/nope does not exist');
  });

  it('a suspended member has no access even with an active grant', async () => {
    const u = await member('a', 'u5');
    await stores.userApps.grant('a', 'web', u);
    await stores.memberships.update('a', u, { status: 'suspended' });
    expect(await stores.userApps.hasAccess('a', 'web', u)).toBe(false);
  });

  it("lists a user's apps and an app's users, revoked ones only when asked", async () => {
    const u = await member('a', 'u6');
    const v = await member('a', 'u7');
    await stores.userApps.grant('a', 'web', u);
    await stores.userApps.grant('a', 'mobile', u);
    await stores.userApps.grant('a', 'mobile', v);
    await stores.userApps.revoke('a', 'web', u);
    expect((await stores.userApps.listUserApps('a', u)).map((g) => g.appId)).toEqual(['mobile']);
    expect(
      (await stores.userApps.listUserApps('a', u, { includeRevoked: true })).map((g) => `${g.appId}:${g.status}`),
    ).toEqual(['mobile:active', 'web:revoked']);
    expect((await stores.userApps.listAppUsers('a', 'mobile')).map((g) => g.userId)).toEqual([u, v]);
    expect((await stores.userApps.listAppUsers('a', 'web')).map((g) => g.userId)).not.toContain(u);
    expect((await stores.userApps.listAppUsers('a', 'web', { includeRevoked: true })).map((g) => g.userId)).toContain(
      u,
    );
  });

  it('16 concurrent grants of the same access make one active grant, and all succeed', async () => {
    const u = await member('a', 'u8');
    const results = await Promise.all(Array.from({ length: 16 }, () => stores.userApps.grant('a', 'web', u)));
    expect(results.every((g) => g.status === 'active')).toBe(true);
    const [count] = await db.sql<
      { n: number }[]
    >`select count(*)::int as n from tenancy.user_apps where tenant_id = 'a' and app_id = 'web' and user_id = ${u}`;
    expect(count!.n).toBe(1);
  });
});
