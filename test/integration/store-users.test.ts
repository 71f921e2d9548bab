/** The users store through the real database: lookup, atomic get-or-create, search, cascades. */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { openPool } from '../../src/db/pool.js';
import { DuplicateError, NotFoundError, ValidationError } from '../../src/errors.js';
import { createCredentialsStore } from '../../src/store/auth/credentials.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
beforeAll(() => {
  stores = createStores(db.sql);
});

const tag = () => randomBytes(4).toString('hex');
const email = (local = 'user') => `${local}.${tag()}@example.com`;

describe('users: create and get', () => {
  it('creates a user as a camelCase row with a UUIDv7 id and the built-in user role', async () => {
    const address = email('Alice');
    const user = await stores.users.create({ email: address, name: 'Alice Liddell' });
    expect(user).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      email: address,
      name: 'Alice Liddell',
      status: 'active',
      emailVerifiedAt: null,
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    expect(await stores.users.get(user.id)).toEqual(user);
    expect(await stores.roles.hasRole(user.id, 'user')).toBe(true);
  });

  it('finds a user by email whatever the letter case', async () => {
    const address = email('Bob');
    const user = await stores.users.create({ email: address });
    expect((await stores.users.getByEmail(address.toUpperCase()))?.id).toBe(user.id);
    expect((await stores.users.getByEmail(` ${address.toLowerCase()} `))?.id).toBe(user.id);
    expect(await stores.users.getByEmail(email('nobody'))).toBeNull();
  });

  it('refuses a second user with the same email in another case (DuplicateError on email)', async () => {
    const address = email('carol');
    await stores.users.create({ email: address });
    const error = await stores.users.create({ email: address.toUpperCase() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateError);
    expect((error as DuplicateError).field).toBe('email');
  });

  it('rejects an invalid email or status with a ValidationError', async () => {
    await expect(stores.users.create({ email: 'not-an-email' })).rejects.toBeInstanceOf(ValidationError);
    await expect(stores.users.create({ email: email(), status: 'banned' as never })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('returns null for a missing or malformed id (never a driver error)', async () => {
    expect(await stores.users.get('0190c3a0-0000-7000-8000-000000000000')).toBeNull();
    expect(await stores.users.get('not-a-uuid')).toBeNull();
  });
});

describe('users: getOrCreateByEmail', () => {
  it('creates once, then returns the same user', async () => {
    const address = email('dave');
    const first = await stores.users.getOrCreateByEmail(address, { name: 'Dave' });
    const second = await stores.users.getOrCreateByEmail(address.toUpperCase(), { name: 'Other' });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.user).toEqual(first.user);
  });

  it('regression (seed: getOrCreate raced): 16 concurrent calls make one user and all return its id', async () => {
    const pool = await openPool(db.conn, { max: 16 });
    try {
      const concurrent = createStores(pool);
      await Promise.all(Array.from({ length: 16 }, () => pool`select 1`)); // open 16 connections first
      const address = email('race');
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          concurrent.users.getOrCreateByEmail(i % 2 ? address : address.toUpperCase()),
        ),
      );
      expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const [row] = await db.sql<
        { n: number }[]
      >`select count(*)::int as n from auth.users where lower(email) = lower(${address})`;
      expect(row!.n).toBe(1);
      const [roles] = await db.sql<
        { n: number }[]
      >`select count(*)::int as n from auth.user_roles where user_id = ${results[0]!.user.id}`;
      expect(roles!.n).toBe(1);
    } finally {
      await pool.end({ timeout: 5 });
    }
  });
});

describe('users: update, markEmailVerified, delete', () => {
  it('updates fields; a new address clears verification, a case change keeps it', async () => {
    const address = email('erin');
    const user = await stores.users.create({ email: address, name: 'Erin' });
    const verified = await stores.users.markEmailVerified(user.id);
    expect(verified.emailVerifiedAt).toBeInstanceOf(Date);

    const renamed = await stores.users.update(user.id, {
      name: 'Erin E.',
      status: 'suspended',
      email: address.toUpperCase(),
    });
    expect(renamed).toMatchObject({ name: 'Erin E.', status: 'suspended', email: address.toUpperCase() });
    expect(renamed.emailVerifiedAt).toEqual(verified.emailVerifiedAt);
    expect(renamed.updatedAt.getTime()).toBeGreaterThanOrEqual(user.updatedAt.getTime());

    const moved = await stores.users.update(user.id, { email: email('erin2') });
    expect(moved.emailVerifiedAt).toBeNull();
    expect(moved.name).toBe('Erin E.');
    expect((await stores.users.update(user.id, { name: null })).name).toBeNull();
  });

  it('marks an email verified once (the first time counts) and grants email-verified', async () => {
    const user = await stores.users.create({ email: email('frank') });
    const first = await stores.users.markEmailVerified(user.id);
    const again = await stores.users.markEmailVerified(user.id);
    expect(again.emailVerifiedAt).toEqual(first.emailVerifiedAt);
    expect(await stores.roles.hasRole(user.id, 'email-verified')).toBe(true);
  });

  it('a new address takes the email-verified role away with the timestamp; a case change keeps both', async () => {
    const user = await stores.users.create({ email: email('verify') });
    await stores.users.markEmailVerified(user.id);
    expect(await stores.roles.hasRole(user.id, 'email-verified')).toBe(true);
    const sameAddress = await stores.users.update(user.id, { email: user.email.toUpperCase() });
    expect(sameAddress.emailVerifiedAt).not.toBeNull();
    expect(await stores.roles.hasRole(user.id, 'email-verified')).toBe(true);
    const moved = await stores.users.update(user.id, { email: email('moved') });
    expect(moved.emailVerifiedAt).toBeNull();
    expect(await stores.roles.hasRole(user.id, 'email-verified')).toBe(false);
    expect(await stores.roles.hasRole(user.id, 'user')).toBe(true);
  });

  it('throws NotFoundError for a missing user in update, markEmailVerified and delete', async () => {
    const missing = '0190c3a0-0000-7000-8000-000000000001';
    await expect(stores.users.update(missing, { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.users.markEmailVerified(missing)).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.users.delete(missing)).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.users.delete('garbage')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a taken email in update is a DuplicateError on email', async () => {
    const a = await stores.users.create({ email: email('gina') });
    const b = await stores.users.create({ email: email('hank') });
    await expect(stores.users.update(b.id, { email: a.email.toUpperCase() })).rejects.toMatchObject({ field: 'email' });
  });

  it('regression (seed 000: no cascade): a user with an OAuth link, session, password, profile and roles can be deleted', async () => {
    const user = await stores.users.create({ email: email('ivy') });
    await stores.externalLogins.link({ userId: user.id, provider: 'github', subject: `gh-${tag()}` });
    await stores.sessions.create({ userId: user.id });
    // Cheap scrypt parameters: the cascade does not depend on the cost (ln=17 is checked in store-credentials).
    await createCredentialsStore(db.sql, { params: { ln: 10, r: 8, p: 1 } }).setPassword(
      user.id,
      'correct horse battery staple',
    );
    await stores.profiles.upsert(user.id, { displayName: 'Ivy' });
    await stores.preferences.upsert(user.id, { theme: 'dark' });
    await stores.roles.assign(user.id, 'admin');

    await stores.users.delete(user.id);
    expect(await stores.users.get(user.id)).toBeNull();
    const [left] = await db.sql<{ n: number }[]>`
      select (select count(*) from auth.user_external_logins where user_id = ${user.id})
           + (select count(*) from auth.sessions where user_id = ${user.id})
           + (select count(*) from auth.user_credentials where user_id = ${user.id})
           + (select count(*) from auth.user_profiles where user_id = ${user.id})
           + (select count(*) from auth.user_preferences where user_id = ${user.id})
           + (select count(*) from auth.user_roles where user_id = ${user.id}) as n`;
    expect(Number(left!.n)).toBe(0);
  });
});

describe('users: list and search', () => {
  const run = tag();
  const names = ['Zoe Quartz', 'Yann Quartz', 'Xavier Onyx', 'Wendy Quartz', 'Victor Onyx'];
  let ids: string[] = [];

  beforeAll(async () => {
    ids = [];
    for (const [i, name] of names.entries()) {
      const user = await stores.users.create({
        email: `${name.split(' ')[0]!.toLowerCase()}.${run}@mineral${run}.test`,
        name: `${name} ${run}`,
        status: i === 4 ? 'disabled' : 'active',
      });
      ids.push(user.id);
    }
  });

  it('pages through the matches in a stable order without gaps or repeats', async () => {
    const seen: string[] = [];
    for (let offset = 0; ; offset += 2) {
      const page = await stores.users.list({ search: run, limit: 2, offset });
      expect(page.total).toBe(5);
      expect(page).toMatchObject({ limit: 2, offset });
      if (page.items.length === 0) break;
      seen.push(...page.items.map((u) => u.id));
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(ids));
    const again = await stores.users.list({ search: run, limit: 10 });
    expect(again.items.map((u) => u.id)).toEqual(seen);
  });

  it('lists everyone in creation order without a search', async () => {
    const page = await stores.users.list({ limit: 1000 });
    const mine = page.items.map((u) => u.id).filter((id) => ids.includes(id));
    expect(mine).toEqual(ids);
    expect(page.total).toBeGreaterThanOrEqual(5);
  });

  it('finds by a word of the name, a fragment of the email, or the domain', async () => {
    const byWord = await stores.users.list({ search: `quartz ${run}` });
    expect(byWord.items.map((u) => u.name!.split(' ')[0]).sort()).toEqual(['Wendy', 'Yann', 'Zoe']);

    const byFragment = await stores.users.list({ search: `avie` }); // xAVIEr, substring (trigram)
    expect(byFragment.items.map((u) => u.id)).toContain(ids[2]);

    const byDomain = await stores.users.list({ search: `mineral${run}` }); // the split email (full text)
    expect(byDomain.total).toBe(5);

    const exact = await stores.users.list({ search: `wendy.${run}@mineral${run}.test` });
    expect(exact.items[0]?.id).toBe(ids[3]);
  });

  it('filters by status, and treats LIKE wildcards in the search as text', async () => {
    const disabled = await stores.users.list({ search: run, status: 'disabled' });
    expect(disabled.items.map((u) => u.id)).toEqual([ids[4]]);
    expect((await stores.users.list({ search: '%' })).total).toBe(0);
    // Unescaped, '%q%z%' would match "Quartz" names; escaped it is the literal text "q%z".
    expect((await stores.users.list({ search: 'q%z' })).total).toBe(0);
    expect((await stores.users.list({ search: 'q_artz' })).total).toBe(0);
  });
});
