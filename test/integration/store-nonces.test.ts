/** The nonces store: single use (also under concurrency), expiry, purge. */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { openPool } from '../../src/db/pool.js';
import { DuplicateError, ValidationError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
beforeAll(() => {
  stores = createStores(db.sql);
});

const value = () => `nonce-${randomBytes(8).toString('hex')}`;

describe('nonces', () => {
  it('regression (seed 000: read twice): a nonce is consumed once', async () => {
    const v = value();
    const created = await stores.nonces.create(v, 60);
    expect(created).toEqual({ value: v, expiresAt: expect.any(Date), createdAt: expect.any(Date) });
    expect(await stores.nonces.consume(v)).toEqual(created);
    expect(await stores.nonces.consume(v)).toBeNull();
    expect(await stores.nonces.consume('never-created')).toBeNull();
    expect(await stores.nonces.consume('')).toBeNull();
  });

  it('of 16 concurrent consumes exactly one gets the nonce', async () => {
    const pool = await openPool(db.conn, { max: 16 });
    try {
      const concurrent = createStores(pool);
      await Promise.all(Array.from({ length: 16 }, () => pool`select 1`));
      for (let round = 0; round < 5; round++) {
        const v = value();
        await concurrent.nonces.create(v, 60);
        const results = await Promise.all(Array.from({ length: 16 }, () => concurrent.nonces.consume(v)));
        expect(results.filter((r) => r !== null)).toHaveLength(1);
      }
    } finally {
      await pool.end({ timeout: 5 });
    }
  });

  it('regression (seed 000: never expired): an expired nonce cannot be consumed', async () => {
    const v = value();
    await stores.nonces.create(v, 0.1);
    await sleep(250);
    expect(await stores.nonces.consume(v)).toBeNull();
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from auth.nonces where value = ${v}`;
    expect(row!.n).toBe(0); // removed on the way
  });

  it('a live value cannot be created twice; an expired leftover is replaced', async () => {
    const v = value();
    await stores.nonces.create(v, 60);
    const error = await stores.nonces.create(v, 60).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateError);
    expect((error as DuplicateError).field).toBe('value');

    const w = value();
    await stores.nonces.create(w, 0.1);
    await sleep(250);
    await stores.nonces.create(w, 60);
    expect(await stores.nonces.consume(w)).not.toBeNull();
  });

  it('purges expired nonces and counts them; live ones stay', async () => {
    await stores.nonces.purgeExpired();
    const live = value();
    await stores.nonces.create(live, 60);
    await stores.nonces.create(value(), 0.1);
    await stores.nonces.create(value(), 0.1);
    await sleep(250);
    expect(await stores.nonces.purgeExpired()).toBe(2);
    expect(await stores.nonces.purgeExpired()).toBe(0);
    expect(await stores.nonces.consume(live)).not.toBeNull();
  });

  it('rejects an empty value or a non-positive lifetime', async () => {
    await expect(stores.nonces.create('', 60)).rejects.toBeInstanceOf(ValidationError);
    await expect(stores.nonces.create(value(), 0)).rejects.toBeInstanceOf(ValidationError);
    await expect(stores.nonces.create(value(), Number.NaN)).rejects.toBeInstanceOf(ValidationError);
  });
});
