/**
 * Email/password credentials (auth.user_credentials). The store hashes and verifies; callers
 * never see a hash: reads return CredentialInfo, and errors leaving this file carry no query
 * parameters (which would hold the hash).
 */
import { NotFoundError } from '../../errors.js';
import { type ErrorContext, guard, mapErrors } from '../map-error.js';
import {
  checkPassword,
  DEFAULT_SCRYPT_PARAMS,
  dummyVerify,
  hashPassword,
  needsRehash,
  phcAlgorithm,
  type DeriveKey,
  scrypt,
  type ScryptParams,
  verifyPasswordHash,
} from './password-hash.js';
import { shown, textKeys } from '../validate.js';
import type { Queryable } from '../queryable.js';
import { type CredentialInfo, isUuid, USER_COLUMNS, type User } from './types.js';

const ctx: ErrorContext = {
  entity: 'password credential',
  foreignKeys: { user_credentials_user_id_fkey: 'password credential: the user does not exist' },
};

export interface CredentialsOptions {
  /** Hashing parameters for new hashes; stored hashes with other parameters are rehashed on sign-in. */
  params?: ScryptParams;
  /** The key derivation (default: scrypt); the tests wrap it to count the work each path spends. */
  deriveKey?: DeriveKey;
}

/**
 * Blanks the driver's copy of a failed query's parameters and failing row in an error and its
 * causes (they can hold a hash), so logging the error cannot leak one. postgres.js defines
 * `parameters` and `args` read-only, so their arrays are emptied in place.
 */
export function scrubSecrets<E>(error: E): E {
  for (
    let e: unknown = error, depth = 0;
    e && typeof e === 'object' && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    for (const key of ['parameters', 'args']) {
      const list = (e as Record<string, unknown>)[key];
      if (Array.isArray(list)) list.fill('[redacted]');
    }
    const detail = (e as { detail?: unknown }).detail;
    if (typeof detail === 'string' && /Failing row contains|\$[a-z0-9-]+\$/.test(detail)) {
      try {
        (e as { detail?: string }).detail = '[redacted]';
      } catch {
        // read-only: nothing more to do
      }
    }
  }
  return error;
}

/** guard() for operations that send a hash to the server. */
const secretGuard = <T>(op: () => Promise<T>): Promise<T> =>
  guard(ctx, op).catch((error: unknown) => {
    throw scrubSecrets(error);
  });

/** Builds the credentials store; `options.params` overrides the current scrypt parameters. */
export function createCredentialsStore(sql: Queryable, options: CredentialsOptions = {}) {
  const params = options.params ?? DEFAULT_SCRYPT_PARAMS;
  const derive = options.deriveKey ?? scrypt;

  async function storedHash(userId: string): Promise<string | null> {
    if (!isUuid(userId)) return null;
    const [row] = await sql<
      { hash: string }[]
    >`select password_hash as hash from auth.user_credentials where user_id = ${userId}`;
    return row?.hash ?? null;
  }

  // Verifies against a stored hash (or spends the same work when there is none) and, on
  // success with outdated parameters, replaces the hash unless someone changed it meanwhile.
  async function check(userId: string | null, stored: string | null, password: string): Promise<boolean> {
    if (!userId || !stored) return dummyVerify(password, params, derive);
    const ok = await verifyPasswordHash(password, stored, derive);
    if (ok && needsRehash(stored, params)) {
      const fresh = await hashPassword(password, params, derive);
      await sql`update auth.user_credentials set password_hash = ${fresh} where user_id = ${userId} and password_hash = ${stored}`;
    }
    return ok;
  }

  return {
    /** Sets (or replaces) a user's password; NotFoundError when the user does not exist. */
    setPassword: (userId: string, password: string): Promise<void> =>
      secretGuard(async () => {
        checkPassword(password);
        if (!isUuid(userId)) throw new NotFoundError('user', shown(userId));
        const hash = await hashPassword(password, params, derive);
        const rows = await sql`
          insert into auth.user_credentials (user_id, password_hash)
          select id, ${hash} from auth.users where id = ${userId}
          on conflict (user_id) do update set password_hash = excluded.password_hash
          returning 1`;
        if (rows.length === 0) throw new NotFoundError('user', userId);
      }),

    /**
     * True when `password` is the user's password. Constant time, and as slow for a user
     * without a password (or a missing user) as for one with. Rehashes on success when the
     * stored parameters are not the current ones.
     */
    verifyPassword: (userId: string, password: string): Promise<boolean> =>
      secretGuard(async () => check(userId, await storedHash(userId), password)),

    /**
     * Sign-in by email and password: the user when both match, else null. An unknown email
     * costs the same work as a wrong password.
     */
    verifyByEmail: (email: string, password: string): Promise<User | null> =>
      secretGuard(async () => {
        const [row] = textKeys(email)
          ? await sql<(User & { hash: string | null })[]>`
                select ${sql.unsafe(USER_COLUMNS('u'))}, c.password_hash as hash
                from auth.users u left join auth.user_credentials c on c.user_id = u.id
                where pgstore.casefold(u.email) = pgstore.casefold(${email.trim()})`
          : [];
        const ok = await check(row?.id ?? null, row?.hash ?? null, password);
        if (!ok || !row) return null;
        const { hash: _hash, ...user } = row;
        return user;
      }),

    /** Removes a user's password (they sign in another way); NotFoundError when there is none. */
    removePassword: mapErrors(ctx, async (userId: string): Promise<void> => {
      const rows = isUuid(userId)
        ? await sql`delete from auth.user_credentials where user_id = ${userId} returning 1`
        : [];
      if (rows.length === 0) throw new NotFoundError('password credential', shown(userId));
    }),

    /** Whether the user has a password. */
    hasPassword: (userId: string): Promise<boolean> => guard(ctx, async () => (await storedHash(userId)) !== null),

    /** What is known about a user's password (algorithm, age, rehash due) without the hash; null when none. */
    get: mapErrors(ctx, async (userId: string): Promise<CredentialInfo | null> => {
      if (!isUuid(userId)) return null;
      const [row] = await sql<{ userId: string; hash: string; createdAt: Date; updatedAt: Date }[]>`
        select user_id as "userId", password_hash as hash, created_at as "createdAt", updated_at as "updatedAt"
        from auth.user_credentials where user_id = ${userId}`;
      if (!row) return null;
      return {
        userId: row.userId,
        algorithm: phcAlgorithm(row.hash) ?? 'unknown',
        needsRehash: needsRehash(row.hash, params),
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      };
    }),
  };
}

export type CredentialsStore = ReturnType<typeof createCredentialsStore>;
