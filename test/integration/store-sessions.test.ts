/** The sessions store: opaque tokens (only their SHA-256 stored), expiry, extend, cleanup. */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { ForeignKeyError, NotFoundError, ValidationError } from '../../src/errors.js';
import type { User } from '../../src/store/auth/types.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
let user: User;
beforeAll(async () => {
  stores = createStores(db.sql);
  user = await stores.users.create({ email: `sess.${randomBytes(4).toString('hex')}@example.com` });
});

describe('sessions', () => {
  it('creates a session: a 256-bit token returned once, only its SHA-256 stored', async () => {
    const { token, session } = await stores.sessions.create({
      userId: user.id,
      userAgent: 'vitest',
      ipAddress: '203.0.113.5',
      ttlSeconds: 3600,
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(session).toEqual({
      id: expect.any(String),
      userId: user.id,
      userAgent: 'vitest',
      ipAddress: '203.0.113.5',
      expiresAt: expect.any(Date),
      lastSeenAt: expect.any(Date),
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    expect(session.expiresAt.getTime() - session.createdAt.getTime()).toBeCloseTo(3600_000, -3);
    const [row] = await db.sql<
      { hash: Buffer; text: string }[]
    >`select token_hash as hash, s::text as text from auth.sessions s where id = ${session.id}`;
    expect(row!.hash.equals(createHash('sha256').update(token).digest())).toBe(true);
    expect(row!.text).not.toContain(token);
    expect(await stores.sessions.get(token)).toEqual(session);
  });

  it('regression (seed 000: lookup errored): a missing or malformed token or id is null', async () => {
    expect(await stores.sessions.get(randomBytes(32).toString('base64url'))).toBeNull();
    for (const bad of [
      '',
      'x',
      'not-a-uuid',
      "'; drop table auth.sessions; --",
      'é'.repeat(600),
      undefined,
      null,
      42,
    ]) {
      expect(await stores.sessions.get(bad as string)).toBeNull();
      expect(await stores.sessions.getById(bad as string)).toBeNull();
    }
    expect(await stores.sessions.getById('0190c3a0-0000-7000-8000-000000000000')).toBeNull();
  });

  it('an expired session is null, and cleanupExpired removes it and counts', async () => {
    const { token, session } = await stores.sessions.create({ userId: user.id, ttlSeconds: 0.1 });
    await sleep(250);
    expect(await stores.sessions.get(token)).toBeNull();
    expect(await stores.sessions.getById(session.id)).not.toBeNull(); // still there until cleanup
    await expect(stores.sessions.extend(token)).rejects.toBeInstanceOf(NotFoundError);
    const live = await stores.sessions.create({ userId: user.id });
    expect(await stores.sessions.cleanupExpired()).toBeGreaterThanOrEqual(1);
    expect(await stores.sessions.getById(session.id)).toBeNull();
    expect(await stores.sessions.get(live.token)).not.toBeNull();
    expect(await stores.sessions.cleanupExpired()).toBe(0);
  });

  it('extends a live session (never shortening it) and records activity', async () => {
    const { token, session } = await stores.sessions.create({ userId: user.id, ttlSeconds: 60 });
    const extended = await stores.sessions.extend(token, 7200);
    expect(extended.expiresAt.getTime()).toBeGreaterThan(session.expiresAt.getTime() + 7000_000);
    const notShorter = await stores.sessions.extend(token, 10);
    expect(notShorter.expiresAt).toEqual(extended.expiresAt);
    await expect(stores.sessions.extend(randomBytes(32).toString('base64url'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.sessions.extend(token, -1)).rejects.toBeInstanceOf(ValidationError);
  });

  it('deletes by token (sign-out) without ever naming the token in the error', async () => {
    const { token } = await stores.sessions.create({ userId: user.id });
    await stores.sessions.delete(token);
    expect(await stores.sessions.get(token)).toBeNull();
    const error = await stores.sessions.delete(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).not.toContain(token);
    await expect(stores.sessions.delete('garbage')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists, deletes by id, and deletes all of a user (optionally keeping one)', async () => {
    const other = await stores.users.create({ email: `sess2.${randomBytes(4).toString('hex')}@example.com` });
    const a = await stores.sessions.create({ userId: other.id });
    const b = await stores.sessions.create({ userId: other.id });
    const c = await stores.sessions.create({ userId: other.id });
    expect((await stores.sessions.listForUser(other.id)).map((s) => s.id)).toEqual([
      c.session.id,
      b.session.id,
      a.session.id,
    ]);
    await stores.sessions.deleteById(a.session.id);
    await expect(stores.sessions.deleteById(a.session.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await stores.sessions.deleteForUser(other.id, { exceptId: c.session.id })).toBe(1);
    expect(await stores.sessions.get(c.token)).not.toBeNull();
    expect(await stores.sessions.deleteForUser(other.id)).toBe(1);
    expect(await stores.sessions.deleteForUser(other.id)).toBe(0);
    expect(await stores.sessions.deleteForUser('garbage')).toBe(0);
  });

  it('refuses a session for a missing user, a bad IP address or a bad lifetime', async () => {
    await expect(stores.sessions.create({ userId: '0190c3a0-0000-7000-8000-000000000000' })).rejects.toBeInstanceOf(
      ForeignKeyError,
    );
    await expect(stores.sessions.create({ userId: 'garbage' })).rejects.toBeInstanceOf(ForeignKeyError);
    await expect(stores.sessions.create({ userId: user.id, ipAddress: '999.1.1.1' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(stores.sessions.create({ userId: user.id, ttlSeconds: 0 })).rejects.toBeInstanceOf(ValidationError);
    const v6 = await stores.sessions.create({ userId: user.id, ipAddress: '2001:db8::1' });
    expect(v6.session.ipAddress).toBe('2001:db8::1');
  });
});
