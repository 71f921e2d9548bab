import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConcurrentWriteConflictError, ForeignKeyError, NotFoundError, ValidationError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
let userId: string;

beforeAll(async () => {
  stores = createStores(db.sql);
  await stores.tenants.create({ id: 'a', name: 'Tenant A' });
  await stores.tenants.create({ id: 'b', name: 'Tenant B' });
  await stores.apps.create({ tenantId: 'a', id: 'api', name: 'API', type: 'api' });
  await stores.apps.create({ tenantId: 'a', id: 'web', name: 'Web', type: 'web' });
  await stores.apps.create({ tenantId: 'b', id: 'api', name: 'API', type: 'api' });
  const [row] = await db.sql<{ id: string }[]>`insert into auth.users (email) values ('owner@a.example') returning id`;
  userId = row!.id;
  await stores.memberships.add({ tenantId: 'a', userId, username: 'owner' });
});

const raw = (keyId: string) =>
  db.sql<{ secret_hash: Buffer; last_used_at: Date | null; revoked_at: Date | null }[]>`
    select secret_hash, last_used_at, revoked_at from tenancy.app_keys where key_id = ${keyId}`.then((r) => r[0]!);

describe('appKeys store: create and verify', () => {
  it('returns the secret once as <prefix>_<random>_<tenant id>, stores only its SHA-256, and never shows the hash', async () => {
    const { key, secret } = await stores.appKeys.create({
      tenantId: 'a',
      appId: 'api',
      name: 'server',
      scopes: ['read', 'write'],
    });
    expect(secret).toMatch(/^pk_live_[0-9A-Za-z]{43}_a$/);
    expect(key).toMatchObject({
      tenantId: 'a',
      appId: 'api',
      prefix: 'pk_live',
      name: 'server',
      environment: 'live',
      scopes: ['read', 'write'],
      status: 'active',
      revokedAt: null,
      lastUsedAt: null,
      rotatedFrom: null,
    });
    expect(key.keyId).toMatch(/^key_[0-9A-Za-z]{20}$/);
    expect(Object.keys(key)).not.toContain('secretHash');
    const stored = await raw(key.keyId);
    expect(stored.secret_hash.equals(createHash('sha256').update(secret).digest())).toBe(true);
    const [leak] =
      await db.sql`select 1 from tenancy.app_keys where ${secret} in (key_id, prefix, name, metadata::text)`;
    expect(leak).toBeUndefined();
    expect(JSON.stringify(await stores.appKeys.list('a', 'api'))).not.toContain(stored.secret_hash.toString('hex'));
  });

  it("uses pk_test for test keys, or the caller's prefix; a malformed prefix is ValidationError", async () => {
    expect((await stores.appKeys.create({ tenantId: 'a', appId: 'api', environment: 'test' })).secret).toMatch(
      /^pk_test_[0-9A-Za-z]{43}_a$/,
    );
    const custom = await stores.appKeys.create({ tenantId: 'a', appId: 'api', prefix: 'sk_acme' });
    expect(custom.secret).toMatch(/^sk_acme_[0-9A-Za-z]{43}_a$/);
    expect(custom.key.prefix).toBe('sk_acme');
    const bad = await stores.appKeys
      .create({ tenantId: 'a', appId: 'api', prefix: 'bad prefix' })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).field).toBe('prefix');
  });

  it('refuses an unknown app, or a user who is not a member of the tenant', async () => {
    await expect(stores.appKeys.create({ tenantId: 'b', appId: 'web' })).rejects.toBeInstanceOf(ForeignKeyError);
    const notMember = await stores.appKeys.create({ tenantId: 'b', appId: 'api', userId }).catch((e: unknown) => e);
    expect(notMember).toBeInstanceOf(ForeignKeyError);
    expect((notMember as Error).message).toContain('is not a member of tenant b');
    expect((await stores.appKeys.create({ tenantId: 'a', appId: 'api', userId })).key.userId).toBe(userId);
  });

  it('verify returns the key for its secret and null for anything else', async () => {
    const { key, secret } = await stores.appKeys.create({ tenantId: 'a', appId: 'api' });
    const verified = await stores.appKeys.verify(secret);
    // The same view as every other read (the hash never leaves the store), lastUsedAt just set.
    expect(verified).toEqual({ ...key, lastUsedAt: expect.any(Date) });
    expect(Object.keys(verified!)).toEqual(Object.keys(key));
    // Another last character (a secret ending in x made this the secret itself, 1 run in ~60).
    expect(await stores.appKeys.verify(`${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}`)).toBeNull();
    expect(await stores.appKeys.verify('')).toBeNull();
    expect(await stores.appKeys.verify('pk_live_')).toBeNull();
  });

  it("verify of an expired or revoked key, or of a soft-deleted tenant's key, is null", async () => {
    const expired = await stores.appKeys.create({
      tenantId: 'a',
      appId: 'api',
      expiresAt: new Date(Date.now() - 1000),
    });
    expect(await stores.appKeys.verify(expired.secret)).toBeNull();
    expect((await stores.appKeys.getByKeyId('a', 'api', expired.key.keyId))?.status).toBe('expired');
    expect((await raw(expired.key.keyId)).last_used_at).toBeNull();

    const soon = await stores.appKeys.create({ tenantId: 'a', appId: 'api', expiresAt: new Date(Date.now() + 60_000) });
    expect(await stores.appKeys.verify(soon.secret)).not.toBeNull();

    const revoked = await stores.appKeys.create({ tenantId: 'a', appId: 'api' });
    await stores.appKeys.revoke('a', 'api', revoked.key.keyId);
    expect(await stores.appKeys.verify(revoked.secret)).toBeNull();

    await stores.tenants.create({ id: 'c', name: 'Tenant C' });
    await stores.apps.create({ tenantId: 'c', id: 'api', name: 'API', type: 'api' });
    const ofC = await stores.appKeys.create({ tenantId: 'c', appId: 'api' });
    await stores.tenants.softDelete('c');
    expect(await stores.appKeys.verify(ofC.secret)).toBeNull();
    await stores.tenants.restore('c');
    expect(await stores.appKeys.verify(ofC.secret)).not.toBeNull();
  });

  it('verify moves last_used_at (recorded at most once a minute)', async () => {
    const { key, secret } = await stores.appKeys.create({ tenantId: 'a', appId: 'api' });
    const first = await stores.appKeys.verify(secret);
    expect(first!.lastUsedAt).toBeInstanceOf(Date);
    expect((await raw(key.keyId)).last_used_at).toEqual(first!.lastUsedAt);
    // Within the minute: no write.
    expect((await stores.appKeys.verify(secret))!.lastUsedAt).toEqual(first!.lastUsedAt);
    // Two minutes later (simulated): it moves again.
    await db.sql`update tenancy.app_keys set last_used_at = last_used_at - interval '2 minutes' where key_id = ${key.keyId}`;
    const old = (await raw(key.keyId)).last_used_at!;
    const later = await stores.appKeys.verify(secret);
    expect(later!.lastUsedAt!.getTime()).toBeGreaterThan(old.getTime());
    expect((await raw(key.keyId)).last_used_at).toEqual(later!.lastUsedAt);
  });
});

describe('appKeys store: lookup, revoke, delete', () => {
  it('getByKeyId is tenant and app scoped', async () => {
    const { key } = await stores.appKeys.create({ tenantId: 'a', appId: 'api' });
    expect(await stores.appKeys.getByKeyId('a', 'api', key.keyId)).toEqual(key);
    expect(await stores.appKeys.getByKeyId('b', 'api', key.keyId)).toBeNull();
    expect(await stores.appKeys.getByKeyId('a', 'web', key.keyId)).toBeNull();
    expect(await stores.appKeys.getByKeyId('a', 'api', 'key_missing')).toBeNull();
  });

  it('revoking by the public key id works (seed 002 regression), and is idempotent', async () => {
    const { key, secret } = await stores.appKeys.create({ tenantId: 'a', appId: 'web', name: 'to revoke' });
    const revoked = await stores.appKeys.revoke('a', 'web', key.keyId);
    expect(revoked).toMatchObject({ keyId: key.keyId, status: 'revoked' });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect((await raw(key.keyId)).revoked_at).toEqual(revoked.revokedAt);
    expect(await stores.appKeys.verify(secret)).toBeNull();
    expect(await stores.appKeys.revoke('a', 'web', key.keyId)).toEqual(revoked);
  });

  it("revoking a missing key, or another tenant's key, is NotFoundError and changes nothing", async () => {
    await expect(stores.appKeys.revoke('a', 'api', 'key_missing')).rejects.toBeInstanceOf(NotFoundError);
    const { key, secret } = await stores.appKeys.create({ tenantId: 'a', appId: 'api' });
    await expect(stores.appKeys.revoke('b', 'api', key.keyId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.appKeys.delete('b', 'api', key.keyId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.appKeys.rotate('b', 'api', key.keyId)).rejects.toBeInstanceOf(NotFoundError);
    expect(await stores.appKeys.verify(secret)).not.toBeNull();
  });

  it("lists the app's keys oldest first, revoked ones only when asked", async () => {
    await stores.apps.create({ tenantId: 'a', id: 'listed', name: 'Listed', type: 'api' });
    const k1 = await stores.appKeys.create({ tenantId: 'a', appId: 'listed', name: 'one' });
    const k2 = await stores.appKeys.create({
      tenantId: 'a',
      appId: 'listed',
      name: 'two',
      environment: 'test',
      userId,
    });
    await stores.appKeys.revoke('a', 'listed', k1.key.keyId);
    expect((await stores.appKeys.list('a', 'listed')).map((k) => k.name)).toEqual(['two']);
    expect(
      (await stores.appKeys.list('a', 'listed', { includeRevoked: true })).map((k) => `${k.name}:${k.status}`),
    ).toEqual(['one:revoked', 'two:active']);
    expect(
      (await stores.appKeys.list('a', 'listed', { environment: 'live', includeRevoked: true })).map((k) => k.name),
    ).toEqual(['one']);
    expect((await stores.appKeys.list('a', 'listed', { userId })).map((k) => k.keyId)).toEqual([k2.key.keyId]);
    expect(await stores.appKeys.list('b', 'listed', { includeRevoked: true })).toEqual([]);
  });

  it('deletes; deleting again is NotFoundError', async () => {
    const { key, secret } = await stores.appKeys.create({ tenantId: 'a', appId: 'api' });
    await stores.appKeys.delete('a', 'api', key.keyId);
    expect(await stores.appKeys.getByKeyId('a', 'api', key.keyId)).toBeNull();
    expect(await stores.appKeys.verify(secret)).toBeNull();
    await expect(stores.appKeys.delete('a', 'api', key.keyId)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('appKeys store: rotate', () => {
  it('revokes the old key and creates a successor with the same name, scopes, environment and prefix', async () => {
    const old = await stores.appKeys.create({
      tenantId: 'a',
      appId: 'api',
      name: 'rotating',
      scopes: ['read'],
      environment: 'test',
      prefix: 'sk_test',
      metadata: { team: 'x' },
    });
    const rotated = await stores.appKeys.rotate('a', 'api', old.key.keyId);
    expect(rotated.previous).toMatchObject({ keyId: old.key.keyId, status: 'revoked' });
    expect(rotated.key).toMatchObject({
      name: 'rotating',
      scopes: ['read'],
      environment: 'test',
      prefix: 'sk_test',
      metadata: { team: 'x' },
      status: 'active',
      rotatedFrom: old.key.id,
      expiresAt: null,
    });
    expect(rotated.key.keyId).not.toBe(old.key.keyId);
    expect(rotated.secret).toMatch(/^sk_test_[0-9A-Za-z]{43}_a$/);
    expect(await stores.appKeys.verify(old.secret)).toBeNull();
    expect((await stores.appKeys.verify(rotated.secret))?.keyId).toBe(rotated.key.keyId);
    // Rotating the revoked key again is a conflict; a missing key is NotFoundError.
    await expect(stores.appKeys.rotate('a', 'api', old.key.keyId)).rejects.toBeInstanceOf(ConcurrentWriteConflictError);
    await expect(stores.appKeys.rotate('a', 'api', 'key_missing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it("keeps the old key's lifetime unless told otherwise", async () => {
    const hour = 3600_000;
    const old = await stores.appKeys.create({ tenantId: 'a', appId: 'api', expiresAt: new Date(Date.now() + hour) });
    const same = await stores.appKeys.rotate('a', 'api', old.key.keyId);
    expect(Math.abs(same.key.expiresAt!.getTime() - (Date.now() + hour))).toBeLessThan(60_000);
    const never = await stores.appKeys.rotate('a', 'api', same.key.keyId, { expiresAt: null });
    expect(never.key.expiresAt).toBeNull();
  });

  it('8 concurrent rotations of one key: exactly one succeeds, one live successor', async () => {
    const old = await stores.appKeys.create({ tenantId: 'a', appId: 'web', name: 'raced' });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => stores.appKeys.rotate('a', 'web', old.key.keyId)),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrentWriteConflictError);
    const live = await stores.appKeys.list('a', 'web');
    expect(live.filter((k) => k.name === 'raced').map((k) => k.keyId)).toEqual([
      (won[0] as PromiseFulfilledResult<{ key: { keyId: string } }>).value.key.keyId,
    ]);
    const [successors] = await db.sql<
      { n: number }[]
    >`select count(*)::int as n from tenancy.app_keys where rotated_from = ${old.key.id}`;
    expect(successors!.n).toBe(1);
  });

  it('8 rotations queued behind a lock on the key: exactly one succeeds', async () => {
    const old = await stores.appKeys.create({ tenantId: 'a', appId: 'web', name: 'queued' });
    let rotations: Promise<PromiseSettledResult<unknown>[]> | undefined;
    await db.sql.begin(async (tx) => {
      await tx`select 1 from tenancy.app_keys where key_id = ${old.key.keyId} for update`;
      rotations = Promise.allSettled(Array.from({ length: 8 }, () => stores.appKeys.rotate('a', 'web', old.key.keyId)));
      // Wait until all eight are blocked on the key's row lock, then let them go (commit).
      for (let i = 0; i < 200; i++) {
        await tx`select pg_stat_clear_snapshot()`; // activity is otherwise frozen for the transaction
        const [w] = await tx<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
           where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
        if (w!.n >= 8) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the rotations never queued');
    });
    const results = await rotations!;
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrentWriteConflictError);
    expect((await stores.appKeys.list('a', 'web')).filter((k) => k.name === 'queued')).toHaveLength(1);
  });

  it('a rotation inside a rolled-back transaction leaves the old key live', async () => {
    const old = await stores.appKeys.create({ tenantId: 'a', appId: 'api' });
    await expect(
      db.sql.begin(async (tx) => {
        await createStores(tx).appKeys.rotate('a', 'api', old.key.keyId);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await stores.appKeys.verify(old.secret))?.keyId).toBe(old.key.keyId);
    expect((await stores.appKeys.getByKeyId('a', 'api', old.key.keyId))?.status).toBe('active');
  });
});

describe('appKeys store: the tenant in the secret (Citus readiness, migration 20261205000003)', () => {
  const random = () =>
    randomBytes(64)
      .toString('base64')
      .replace(/[^0-9A-Za-z]/g, '')
      .slice(0, 43);

  it('a key issued before (<prefix>_<random>, no tenant) still verifies, by its hash alone', async () => {
    const { key } = await stores.appKeys.create({ tenantId: 'b', appId: 'api', name: 'legacy' });
    const legacy = `pk_live_${random()}`;
    await db.sql`update tenancy.app_keys set secret_hash = ${createHash('sha256').update(legacy).digest()} where key_id = ${key.keyId}`;
    const verified = await stores.appKeys.verify(legacy);
    expect(verified).toMatchObject({ keyId: key.keyId, tenantId: 'b', lastUsedAt: expect.any(Date) });
    expect((await raw(key.keyId)).last_used_at).toEqual(verified!.lastUsedAt);
    await stores.appKeys.revoke('b', 'api', key.keyId);
    expect(await stores.appKeys.verify(legacy)).toBeNull();
  });

  it('a secret is looked up only in the tenant it names', async () => {
    const { key, secret } = await stores.appKeys.create({ tenantId: 'a', appId: 'api' });
    // Another tenant's part: another hash, no key.
    expect(await stores.appKeys.verify(`${secret.slice(0, -1)}b`)).toBeNull();
    // The same hash in tenant b's row: a secret naming tenant a does not reach it.
    const other = await stores.appKeys.create({ tenantId: 'b', appId: 'api' });
    await db.sql`delete from tenancy.app_keys where key_id = ${key.keyId}`;
    await db.sql`update tenancy.app_keys set secret_hash = ${createHash('sha256').update(secret).digest()} where key_id = ${other.key.keyId}`;
    expect(await stores.appKeys.verify(secret)).toBeNull();
  });

  it('tenant ids with _ and - and a 43-character word still route', async () => {
    for (const id of ['x_y-z', `q_${'a'.repeat(43)}`, `${'0'.repeat(43)}_q`]) {
      await stores.tenants.create({ id, name: `Tenant ${id}` });
      await stores.apps.create({ tenantId: id, id: 'api', name: 'API', type: 'api' });
      const { key, secret } = await stores.appKeys.create({ tenantId: id, appId: 'api', prefix: 'sk_a_b' });
      expect(secret.endsWith(`_${id}`)).toBe(true);
      expect((await stores.appKeys.verify(secret))?.id, id).toBe(key.id);
    }
  });

  it('deleting a rotated key keeps its successor, with rotatedFrom cleared', async () => {
    const old = await stores.appKeys.create({ tenantId: 'a', appId: 'api', name: 'deleted predecessor' });
    const rotated = await stores.appKeys.rotate('a', 'api', old.key.keyId);
    await stores.appKeys.delete('a', 'api', old.key.keyId);
    const successor = await stores.appKeys.getByKeyId('a', 'api', rotated.key.keyId);
    expect(successor).toMatchObject({ rotatedFrom: null, status: 'active' });
    expect((await stores.appKeys.verify(rotated.secret))?.keyId).toBe(rotated.key.keyId);
  });

  it('a delete racing a rotation of the same key: the delete wins or clears the successor, never a foreign-key error', async () => {
    for (let round = 0; round < 20; round++) {
      const old = await stores.appKeys.create({ tenantId: 'a', appId: 'web', name: `race ${round}` });
      const [rotation, deletion] = await Promise.allSettled([
        stores.appKeys.rotate('a', 'web', old.key.keyId),
        stores.appKeys.delete('a', 'web', old.key.keyId),
      ]);
      expect(deletion.status, String((deletion as PromiseRejectedResult).reason)).toBe('fulfilled');
      if (rotation.status === 'fulfilled') {
        expect((await stores.appKeys.getByKeyId('a', 'web', rotation.value.key.keyId))?.rotatedFrom).toBeNull();
      } else {
        expect(rotation.reason).toBeInstanceOf(NotFoundError);
      }
    }
  });
});
