/** The profiles and preferences stores: get and upsert, one row per user. */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ForeignKeyError, ValidationError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
beforeAll(() => {
  stores = createStores(db.sql);
});

const newUser = () => stores.users.create({ email: `prof.${randomBytes(4).toString('hex')}@example.com` });
const missing = '0190c3a0-0000-7000-8000-000000000000';

describe('profiles', () => {
  it('is null until saved, then upserts only the fields given', async () => {
    const user = await newUser();
    expect(await stores.profiles.get(user.id)).toBeNull();
    const created = await stores.profiles.upsert(user.id, {
      displayName: 'Ada',
      locale: 'en-GB',
      metadata: { pronouns: 'she/her' },
    });
    expect(created).toEqual({
      userId: user.id,
      displayName: 'Ada',
      avatarUrl: null,
      bio: null,
      locale: 'en-GB',
      timeZone: null,
      metadata: { pronouns: 'she/her' },
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    const updated = await stores.profiles.upsert(user.id, { bio: 'Analyst', locale: null });
    expect(updated).toMatchObject({
      displayName: 'Ada',
      bio: 'Analyst',
      locale: null,
      metadata: { pronouns: 'she/her' },
    });
    expect(await stores.profiles.get(user.id)).toEqual(updated);
    expect(await stores.profiles.upsert(user.id, {})).toEqual({ ...updated, updatedAt: expect.any(Date) });
    const [rows] = await db.sql<
      { n: number }[]
    >`select count(*)::int as n from auth.user_profiles where user_id = ${user.id}`;
    expect(rows!.n).toBe(1);
  });

  it('refuses a missing user, a malformed id or non-object metadata', async () => {
    await expect(stores.profiles.upsert(missing, { displayName: 'x' })).rejects.toBeInstanceOf(ForeignKeyError);
    await expect(stores.profiles.upsert('garbage', { displayName: 'x' })).rejects.toBeInstanceOf(ValidationError);
    const user = await newUser();
    await expect(stores.profiles.upsert(user.id, { metadata: [1, 2] as never })).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(await stores.profiles.get('garbage')).toBeNull();
  });
});

describe('preferences', () => {
  it('is null until saved; upsert replaces, merge merges top-level keys', async () => {
    const user = await newUser();
    expect(await stores.preferences.get(user.id)).toBeNull();
    const first = await stores.preferences.upsert(user.id, { theme: 'dark', notifications: { email: true } });
    expect(first).toEqual({
      userId: user.id,
      preferences: { theme: 'dark', notifications: { email: true } },
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    const merged = await stores.preferences.merge(user.id, { language: 'fr' });
    expect(merged.preferences).toEqual({ theme: 'dark', notifications: { email: true }, language: 'fr' });
    const replaced = await stores.preferences.upsert(user.id, { theme: 'light' });
    expect(replaced.preferences).toEqual({ theme: 'light' });
    expect(await stores.preferences.get(user.id)).toEqual(replaced);
  });

  it('merge creates the row when absent; refuses a missing user or a non-object', async () => {
    const user = await newUser();
    expect((await stores.preferences.merge(user.id, { a: 1 })).preferences).toEqual({ a: 1 });
    await expect(stores.preferences.upsert(missing, {})).rejects.toBeInstanceOf(ForeignKeyError);
    await expect(stores.preferences.upsert(user.id, 'dark' as never)).rejects.toBeInstanceOf(ValidationError);
  });
});
