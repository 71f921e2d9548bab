/** connect() + transaction(): the auth stores share one transaction, all or nothing. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Database } from '../../src/connect.js';
import { DuplicateError } from '../../src/errors.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let database: Database;
beforeAll(async () => {
  database = await connect({ databaseUrl: db.url, env: {} });
});
afterAll(async () => {
  await database?.close();
});

const email = () => `tx.${randomBytes(4).toString('hex')}@example.com`;

describe('transaction across auth stores', () => {
  it('keeps nothing when the function throws after writes to several stores', async () => {
    const address = email();
    let userId = '';
    await expect(
      database.transaction(async (stores) => {
        const user = await stores.users.create({ email: address });
        userId = user.id;
        await stores.profiles.upsert(user.id, { displayName: 'Ghost' });
        await stores.roles.assign(user.id, 'admin');
        await stores.sessions.create({ userId: user.id });
        expect(await stores.users.getByEmail(address)).not.toBeNull(); // visible inside
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(userId).not.toBe('');
    expect(await database.users.getByEmail(address)).toBeNull();
    expect(await database.profiles.get(userId)).toBeNull();
    expect(await database.roles.hasRole(userId, 'admin')).toBe(false);
    expect(await database.sessions.listForUser(userId)).toEqual([]);
  });

  it('rolls back on a store error too, and commits everything when the function returns', async () => {
    const taken = email();
    await database.users.create({ email: taken });
    const fresh = email();
    await expect(
      database.transaction(async (stores) => {
        await stores.users.create({ email: fresh });
        await stores.users.create({ email: taken.toUpperCase() });
      }),
    ).rejects.toBeInstanceOf(DuplicateError);
    expect(await database.users.getByEmail(fresh)).toBeNull();

    const { user, token } = await database.transaction(async (stores) => {
      const created = await stores.users.create({ email: fresh });
      await stores.preferences.upsert(created.id, { theme: 'dark' });
      const session = await stores.sessions.create({ userId: created.id });
      return { user: created, token: session.token };
    });
    expect(await database.users.get(user.id)).toEqual(user);
    expect((await database.preferences.get(user.id))?.preferences).toEqual({ theme: 'dark' });
    expect((await database.sessions.get(token))?.userId).toBe(user.id);
  });

  it('getOrCreateByEmail and nonce consume work inside a transaction', async () => {
    const address = email();
    const nonce = `n-${randomBytes(6).toString('hex')}`;
    await database.nonces.create(nonce, 60);
    const result = await database.transaction(async (stores) => {
      const first = await stores.users.getOrCreateByEmail(address);
      const second = await stores.users.getOrCreateByEmail(address);
      return { first, second, consumed: await stores.nonces.consume(nonce), again: await stores.nonces.consume(nonce) };
    });
    expect(result.first.created).toBe(true);
    expect(result.second).toEqual({ user: result.first.user, created: false });
    expect(result.consumed?.value).toBe(nonce);
    expect(result.again).toBeNull();
  });
});
