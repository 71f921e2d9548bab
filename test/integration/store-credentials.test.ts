/**
 * The credentials store: scrypt PHC hashes, constant-time verify, rehash on sign-in, no hash leaks.
 * The first test uses the production parameters (ln=17, a few hundred ms a hash); the others use
 * cheap ones through the store's own `params` option, which every rule here holds for alike.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, PgstoreError, ValidationError } from '../../src/errors.js';
import { createCredentialsStore, scrubSecrets } from '../../src/store/auth/credentials.js';
import { type DeriveKey, scrypt } from '../../src/store/auth/password-hash.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
/** Cheap scrypt parameters (N = 2^11): the rules below do not depend on the cost. */
const CHEAP = { ln: 11, r: 8, p: 1 } as const;
let stores: Stores;
let credentials: ReturnType<typeof createCredentialsStore>;
beforeAll(() => {
  stores = createStores(db.sql);
  credentials = createCredentialsStore(db.sql, { params: CHEAP });
});

const email = (local = 'user') => `${local}.${randomBytes(4).toString('hex')}@example.com`;
const storedHash = async (userId: string) =>
  (await db.sql<{ h: string }[]>`select password_hash as h from auth.user_credentials where user_id = ${userId}`)[0]?.h;

describe('credentials', () => {
  it('stores a scrypt PHC string with the production parameters, and verifies it', async () => {
    // Two derivations at ln=17 (~0.4 s of CPU each): a wrong password is refused by the same
    // code at any cost, checked with the cheap parameters in the next test.
    const user = await stores.users.create({ email: email('pw') });
    await stores.credentials.setPassword(user.id, 'correct horse battery staple');
    expect(await storedHash(user.id)).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await stores.credentials.verifyPassword(user.id, 'correct horse battery staple')).toBe(true);
    expect(await stores.credentials.hasPassword(user.id)).toBe(true);
  });

  it('verifies the right password only; replaces a password; two hashes of one password differ (salted)', async () => {
    const user = await stores.users.create({ email: email('pw2') });
    await credentials.setPassword(user.id, 'first password');
    expect(await credentials.verifyPassword(user.id, 'first password')).toBe(true);
    expect(await credentials.verifyPassword(user.id, 'first passwor')).toBe(false);
    const first = await storedHash(user.id);
    await credentials.setPassword(user.id, 'first password');
    expect(await storedHash(user.id)).not.toBe(first);
    await credentials.setPassword(user.id, 'second password');
    expect(await credentials.verifyPassword(user.id, 'first password')).toBe(false);
    expect(await credentials.verifyPassword(user.id, 'second password')).toBe(true);
  });

  it('never shows the hash: get() is a redacted view, verifyByEmail returns a plain user', async () => {
    const user = await stores.users.create({ email: email('view') });
    await credentials.setPassword(user.id, 'hunter2-hunter2');
    const info = await credentials.get(user.id);
    expect(info).toEqual({
      userId: user.id,
      algorithm: 'scrypt',
      needsRehash: false,
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    expect(JSON.stringify(info)).not.toContain('$scrypt$');
    const signedIn = await credentials.verifyByEmail(user.email.toUpperCase(), 'hunter2-hunter2');
    expect(signedIn).toEqual(user);
    expect(await credentials.verifyByEmail(user.email, 'wrong')).toBeNull();
    expect(await credentials.verifyByEmail(email('nobody'), 'hunter2-hunter2')).toBeNull();
    expect(await credentials.get('0190c3a0-0000-7000-8000-00000000000a')).toBeNull();
  });

  it('rehashes transparently on a successful verify when the parameters changed', async () => {
    const user = await stores.users.create({ email: email('old') });
    const weak = createCredentialsStore(db.sql, { params: { ln: 10, r: 8, p: 1 } });
    await weak.setPassword(user.id, 'legacy password');
    expect(await storedHash(user.id)).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$/);
    expect((await credentials.get(user.id))?.needsRehash).toBe(true);

    expect(await credentials.verifyPassword(user.id, 'wrong password')).toBe(false);
    expect(await storedHash(user.id)).toMatch(/^\$scrypt\$ln=10,/); // a failed verify changes nothing

    expect(await credentials.verifyPassword(user.id, 'legacy password')).toBe(true);
    expect(await storedHash(user.id)).toMatch(/^\$scrypt\$ln=11,r=8,p=1\$/);
    expect((await credentials.get(user.id))?.needsRehash).toBe(false);
    expect(await credentials.verifyPassword(user.id, 'legacy password')).toBe(true);
  });

  it('spends the same work for a user without a password, a missing user, a malformed id or an unknown email', async () => {
    // Counted, not timed: every path derives exactly one key, with the same cost parameters
    // and key length as a real check (a short cut would derive none). The real scrypt runs.
    const work: string[] = [];
    const deriveKey: DeriveKey = (password, salt, keyLength, params) => {
      work.push(`ln=${params.ln},r=${params.r},p=${params.p} bytes=${keyLength}`);
      return scrypt(password, salt, keyLength, params);
    };
    const counted = createCredentialsStore(db.sql, { params: CHEAP, deriveKey });
    const withPw = await stores.users.create({ email: email('t1') });
    const without = await stores.users.create({ email: email('t2') });
    await counted.setPassword(withPw.id, 'timing password');
    const spent = async (fn: () => Promise<unknown>) => {
      work.length = 0;
      expect(await fn()).toBeFalsy();
      return [...work];
    };
    const real = await spent(() => counted.verifyPassword(withPw.id, 'wrong password'));
    expect(real).toEqual(['ln=11,r=8,p=1 bytes=32']);
    expect(await spent(() => counted.verifyPassword(without.id, 'wrong password'))).toEqual(real);
    expect(await spent(() => counted.verifyPassword('0190c3a0-0000-7000-8000-00000000000b', 'x'))).toEqual(real);
    expect(await spent(() => counted.verifyPassword('garbage', 'x'))).toEqual(real);
    expect(await spent(() => counted.verifyPassword(withPw.id, ''))).toEqual(real);
    expect(await spent(() => counted.verifyByEmail(withPw.email, 'wrong password'))).toEqual(real);
    expect(await spent(() => counted.verifyByEmail(email('nobody'), 'x'))).toEqual(real);
    expect(await spent(() => counted.verifyByEmail('not an email', 'x'))).toEqual(real);
  });

  it('removes a password; NotFoundError when there is none; NotFoundError for a missing user', async () => {
    const user = await stores.users.create({ email: email('rm') });
    await credentials.setPassword(user.id, 'to be removed');
    await credentials.removePassword(user.id);
    expect(await credentials.hasPassword(user.id)).toBe(false);
    expect(await credentials.verifyPassword(user.id, 'to be removed')).toBe(false);
    await expect(credentials.removePassword(user.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(credentials.setPassword('0190c3a0-0000-7000-8000-00000000000c', 'pw')).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('rejects an empty password and refuses to verify a hash it cannot check (never a silent false)', async () => {
    const user = await stores.users.create({ email: email('bad') });
    await expect(credentials.setPassword(user.id, '')).rejects.toBeInstanceOf(ValidationError);
    await db.sql`insert into auth.user_credentials (user_id, password_hash) values (${user.id}, '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g')`;
    const error = await credentials.verifyPassword(user.id, 'pw').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PgstoreError);
    expect((error as Error).message).toContain('argon2id');
    expect((error as Error).message).not.toContain('c2FsdHNhbHQ');
    expect(await credentials.get(user.id)).toMatchObject({ algorithm: 'argon2id', needsRehash: true });
  });

  it('the table refuses a value that is not a PHC string', async () => {
    const user = await stores.users.create({ email: email('phc') });
    await expect(
      db.sql`insert into auth.user_credentials (user_id, password_hash) values (${user.id}, 'plaintext')`,
    ).rejects.toMatchObject({ code: '23514' });
  });

  it("scrubs a failed query's parameters and failing row from driver errors (no hash in logs)", async () => {
    const secret = '$scrypt$ln=17,r=8,p=1$c2VjcmV0c2VjcmV0c2VjcmV0$aGFzaA';
    const user = await stores.users.create({ email: email('scrub') });
    await db.sql`alter table auth.user_credentials add constraint zz_reject check (password_hash <> ${db.sql.unsafe(`'${secret}'`)}) not valid`;
    try {
      const error =
        await db.sql`insert into auth.user_credentials (user_id, password_hash) values (${user.id}, ${secret})`.catch(
          (e: unknown) => e,
        );
      const before = JSON.stringify({
        p: (error as { parameters: unknown }).parameters,
        d: (error as { detail: unknown }).detail,
      });
      expect(before).toContain('c2VjcmV0c2VjcmV0c2VjcmV0');
      scrubSecrets(error);
      const e = error as { parameters: unknown[]; args: unknown[]; detail?: string };
      const after = JSON.stringify({ p: e.parameters, a: e.args, d: e.detail });
      expect(after).not.toContain('c2VjcmV0c2VjcmV0c2VjcmV0');
    } finally {
      await db.sql`alter table auth.user_credentials drop constraint zz_reject`;
    }
  });
});
