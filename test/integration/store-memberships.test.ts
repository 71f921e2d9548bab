import { beforeAll, describe, expect, it } from 'vitest';
import { DuplicateError, ForeignKeyError, NotFoundError, ValidationError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;

// The users store is not used here on purpose: plain rows in auth.users are enough.
async function user(email: string, name: string | null = null): Promise<string> {
  const [row] = await db.sql<
    { id: string }[]
  >`insert into auth.users (email, name) values (${email}, ${name}) returning id`;
  return row!.id;
}

beforeAll(async () => {
  stores = createStores(db.sql);
  await stores.tenants.create({ id: 'a', name: 'Tenant A' });
  await stores.tenants.create({ id: 'b', name: 'Tenant B' });
  await stores.apps.create({ tenantId: 'a', id: 'web', name: 'Web', type: 'web' });
});

describe('memberships store', () => {
  it('adds a member and reads it by user, username and email (joined with auth.users)', async () => {
    const alice = await user('Alice@Example.com', 'Alice');
    const member = await stores.memberships.add({
      tenantId: 'a',
      userId: alice,
      username: 'alice',
      metadata: { role: 'owner' },
    });
    expect(member).toMatchObject({
      tenantId: 'a',
      userId: alice,
      username: 'alice',
      status: 'active',
      metadata: { role: 'owner' },
      email: 'Alice@Example.com',
      name: 'Alice',
    });
    expect(member.createdAt).toBeInstanceOf(Date);
    expect(await stores.memberships.get('a', alice)).toEqual(member);
    expect(await stores.memberships.getByUsername('a', 'ALICE')).toEqual(member);
    expect(await stores.memberships.getByEmail('a', 'alice@example.COM')).toEqual(member);
  });

  it('is tenant-scoped: a member of A is not found through B', async () => {
    const bob = await user('bob@example.com');
    await stores.memberships.add({ tenantId: 'a', userId: bob, username: 'bob' });
    expect(await stores.memberships.get('b', bob)).toBeNull();
    expect(await stores.memberships.getByUsername('b', 'bob')).toBeNull();
    expect(await stores.memberships.getByEmail('b', 'bob@example.com')).toBeNull();
    expect((await stores.memberships.list('b')).map((m) => m.userId)).not.toContain(bob);
    await expect(stores.memberships.remove('b', bob)).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.memberships.update('b', bob, { status: 'disabled' })).rejects.toBeInstanceOf(NotFoundError);
    // The same person may join B under the same username.
    expect((await stores.memberships.add({ tenantId: 'b', userId: bob, username: 'bob' })).tenantId).toBe('b');
  });

  it('names the duplicate: userId (already a member) or username (case-insensitive)', async () => {
    const carol = await user('carol@example.com');
    const dave = await user('dave@example.com');
    await stores.memberships.add({ tenantId: 'a', userId: carol, username: 'carol' });
    const again = await stores.memberships
      .add({ tenantId: 'a', userId: carol, username: 'carol2' })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(DuplicateError);
    expect((again as DuplicateError).field).toBe('userId');
    const taken = await stores.memberships
      .add({ tenantId: 'a', userId: dave, username: 'CAROL' })
      .catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(DuplicateError);
    expect((taken as DuplicateError).field).toBe('username');
  });

  it('refuses unknown users and tenants, and usernames with spaces', async () => {
    const unknownUser = await stores.memberships
      .add({ tenantId: 'a', userId: '00000000-0000-7000-8000-000000000000', username: 'ghost' })
      .catch((e: unknown) => e);
    expect(unknownUser).toBeInstanceOf(ForeignKeyError);
    const erin = await user('erin@example.com');
    const unknownTenant = await stores.memberships
      .add({ tenantId: 'zz', userId: erin, username: 'erin' })
      .catch((e: unknown) => e);
    expect(unknownTenant).toBeInstanceOf(ForeignKeyError);
    const spaced = await stores.memberships
      .add({ tenantId: 'a', userId: erin, username: 'erin x' })
      .catch((e: unknown) => e);
    expect(spaced).toBeInstanceOf(ValidationError);
    expect((spaced as ValidationError).field).toBe('username');
  });

  it('lists members by username, with a status filter', async () => {
    await stores.tenants.create({ id: 'list', name: 'Listing' });
    for (const name of ['zed', 'amy', 'Max']) {
      await stores.memberships.add({
        tenantId: 'list',
        userId: await user(`${name}@list.example`),
        username: name,
        status: name === 'zed' ? 'suspended' : 'active',
      });
    }
    expect((await stores.memberships.list('list')).map((m) => m.username)).toEqual(['amy', 'Max', 'zed']);
    expect((await stores.memberships.list('list', { status: 'suspended' })).map((m) => m.username)).toEqual(['zed']);
    expect((await stores.memberships.list('list', { limit: 1, offset: 1 })).map((m) => m.username)).toEqual(['Max']);
  });

  it('listByApp gives the members with access: active grant and active membership', async () => {
    const [p, q, r, s] = [
      await user('p@app.example'),
      await user('q@app.example'),
      await user('r@app.example'),
      await user('s@app.example'),
    ];
    for (const [id, name] of [
      [p, 'p'],
      [q, 'q'],
      [r, 'r'],
      [s, 's'],
    ] as const)
      await stores.memberships.add({ tenantId: 'a', userId: id, username: `app-${name}` });
    await stores.userApps.grant('a', 'web', p);
    await stores.userApps.grant('a', 'web', q);
    await stores.userApps.grant('a', 'web', r);
    await stores.userApps.revoke('a', 'web', q);
    await stores.memberships.update('a', r, { status: 'suspended' });
    expect((await stores.memberships.listByApp('a', 'web')).map((m) => m.username)).toEqual(['app-p']);
    expect(await stores.memberships.listByApp('b', 'web')).toEqual([]);
  });

  it('updates username and status; a taken username is DuplicateError', async () => {
    const f = await user('f@example.com');
    await stores.memberships.add({ tenantId: 'a', userId: f, username: 'f' });
    const updated = await stores.memberships.update('a', f, { username: 'frank', status: 'disabled' });
    expect(updated).toMatchObject({ username: 'frank', status: 'disabled', email: 'f@example.com' });
    const clash = await stores.memberships.update('a', f, { username: 'Alice' }).catch((e: unknown) => e);
    expect((clash as DuplicateError).field).toBe('username');
    await expect(stores.memberships.update('a', f, {})).resolves.toEqual(updated);
  });

  it('remove deletes the membership with its grants; removing again is NotFoundError', async () => {
    const g = await user('g@example.com');
    await stores.memberships.add({ tenantId: 'a', userId: g, username: 'g' });
    await stores.userApps.grant('a', 'web', g);
    const { secret } = await stores.appKeys.create({ tenantId: 'a', appId: 'web', userId: g });
    await stores.memberships.remove('a', g);
    expect(await stores.memberships.get('a', g)).toBeNull();
    expect(await stores.userApps.hasAccess('a', 'web', g)).toBe(false);
    expect(await stores.userApps.listUserApps('a', g, { includeRevoked: true })).toEqual([]);
    expect(await stores.appKeys.verify(secret)).toBeNull(); // the member's keys go with them
    await expect(stores.memberships.remove('a', g)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deleting the user removes their memberships', async () => {
    const h = await user('h@example.com');
    await stores.memberships.add({ tenantId: 'a', userId: h, username: 'h' });
    await db.sql`delete from auth.users where id = ${h}`;
    expect(await stores.memberships.get('a', h)).toBeNull();
  });
});
