/**
 * API keys (tenancy.app_keys). A key has a public id (`keyId`: lists, get, revoke, rotate,
 * delete) and a secret `<prefix>_<random>_<tenant id>` that is returned once by create/rotate
 * and never stored: only its SHA-256 is. verify(secret) finds the key by that hash within the
 * tenant the secret names (app-key-secret.ts says why the tenant is there).
 *
 * Why SHA-256 and not a password hash (argon2, scrypt): the random part carries 256 bits of
 * entropy, so nobody can guess secrets and hash them to match, however fast the hash. A slow
 * KDF would only make every request slower, and a salt would defeat the lookup by hash that
 * makes verify a single index probe; neither adds security for high-entropy random secrets.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ConcurrentWriteConflictError, NotFoundError, ValidationError } from '../../errors.js';
import { type ErrorContext, guard, mapErrors } from '../map-error.js';
import { atomic, type Queryable } from '../queryable.js';
import type { AppKey, CreatedAppKey, KeyEnvironment, NewAppKey, RotatedAppKey, RotateOptions } from './types.js';
import { jsonb } from './types.js';
import { RANDOM_LENGTH, secretFor, tenantOfSecret } from './app-key-secret.js';
import { isUuid } from '../auth/index.js';
import { optionalObject, optionalText, optionsOf, plainObject, requireText, textKeys, shown } from '../validate.js';

/** An optional expiry: absent, or a valid Date. */
function checkExpiry(value: unknown): void {
  if (value != null && !(value instanceof Date && Number.isFinite(value.getTime()))) {
    throw new ValidationError('app key: expiresAt must be a valid Date or null', { field: 'expiresAt' });
  }
}

const ctx: ErrorContext = {
  entity: 'app key',
  uniqueFields: {
    app_keys_pkey: 'id',
    app_keys_key_id_key: 'keyId',
    app_keys_secret_hash_key: 'secretHash',
    app_keys_rotated_from_key: 'rotatedFrom',
  },
};

/** verify records last_used_at at most this often per key: no write (and no row-lock queue) per request. */
export const LAST_USED_RESOLUTION_SECONDS = 60;

/** As the schema's app_keys_prefix_check: letters and digits in '_'-separated words, at most 32. */
const PREFIX = /^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$/;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` unbiased base62 characters (bytes ≥ 248 = 4 × 62 are dropped). 43 characters ≈ 256 bits. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** SHA-256 of the whole secret, prefix included (see the file comment for why SHA-256). */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** A fresh public key id and secret for a key of `tenantId`. */
function newSecret(prefix: string, tenantId: string): { keyId: string; secret: string; hash: Buffer } {
  const secret = secretFor(prefix, randomBase62(RANDOM_LENGTH), tenantId);
  return { keyId: `key_${randomBase62(20)}`, secret, hash: hashSecret(secret) };
}

export interface AppKeyListOptions {
  /** Also revoked keys (default false; expired keys are always listed, with status 'expired'). */
  includeRevoked?: boolean;
  environment?: KeyEnvironment;
  userId?: string;
}

/** The columns of the default view, with `lastUsed` as the expression for lastUsedAt. */
export function appKeyColumns(lastUsed: string): string {
  return `id, tenant_id as "tenantId", app_id as "appId", key_id as "keyId", prefix, name, environment,
    scopes, user_id as "userId", metadata, expires_at as "expiresAt", ${lastUsed} as "lastUsedAt",
    revoked_at as "revokedAt", rotated_from as "rotatedFrom",
    case when revoked_at is not null then 'revoked' when expires_at <= now() then 'expired' else 'active' end as status,
    created_at as "createdAt", updated_at as "updatedAt"`;
}

/** The API keys store on `sql` (a pool or a transaction). */
export function createAppKeysStore(sql: Queryable) {
  // The default view: everything but the hash. Unqualified, over app_keys or a CTE of its rows.
  // Built once: a fragment made per call (a postgres.js Query, itself a Promise) cost ~20% of verify's throughput.
  const cols = sql.unsafe(appKeyColumns('last_used_at'));
  // verify's view: lastUsedAt as just recorded, and the hash last (see verify).
  const verifyCols = sql.unsafe(
    `${appKeyColumns('coalesce((select last_used_at from touched), k.last_used_at)')}, secret_hash as "secretHash"`,
  );
  const key = (tenantId: string, appId: string, keyId: string) => `${shown(tenantId)}/${shown(appId)}/${shown(keyId)}`;

  async function getByKeyId(tenantId: string, appId: string, keyId: string): Promise<AppKey | null> {
    if (!textKeys(tenantId, appId, keyId)) return null;
    const [row] = await sql<AppKey[]>`
      select ${cols} from tenancy.app_keys where key_id = ${keyId} and tenant_id = ${tenantId} and app_id = ${appId}`;
    return row ?? null;
  }

  return {
    /**
     * Creates a key and returns it with its secret `<prefix>_<random>` (shown this once).
     * Prefix: the caller's, else 'pk_live' / 'pk_test' by environment. ForeignKeyError for an
     * unknown app, or a userId that is not a member of the tenant.
     */
    create: (input: NewAppKey): Promise<CreatedAppKey> =>
      guard(
        {
          ...ctx,
          foreignKeys: {
            app_keys_tenant_id_app_id_fkey: `app ${shown(input?.tenantId)}/${shown(input?.appId)} does not exist`,
            app_keys_user_fkey: `user ${shown(input?.userId)} is not a member of tenant ${shown(input?.tenantId)}`,
          },
        },
        async () => {
          plainObject('app key', input);
          requireText('app key', { tenantId: input.tenantId, appId: input.appId });
          optionalText('app key', {
            name: input.name,
            environment: input.environment,
            prefix: input.prefix,
            userId: input.userId,
          });
          optionalObject('app key', { metadata: input.metadata });
          if (
            input.scopes != null &&
            !(Array.isArray(input.scopes) && input.scopes.every((s) => typeof s === 'string' && !s.includes('\0')))
          ) {
            throw new ValidationError('app key: scopes must be an array of strings', { field: 'scopes' });
          }
          if (input.userId != null && !isUuid(input.userId)) {
            throw new ValidationError(`app key: userId must be a user's id (a UUID), not ${input.userId}`, {
              field: 'userId',
            });
          }
          checkExpiry(input.expiresAt);
          const environment = input.environment ?? 'live';
          const prefix = input.prefix ?? `pk_${environment}`;
          if (!PREFIX.test(prefix) || prefix.length > 32) {
            throw new ValidationError(
              `app key: prefix ${JSON.stringify(prefix)} must be letters and digits in '_'-separated words (at most 32)`,
              {
                field: 'prefix',
                hint: "Use e.g. 'pk_live' or 'sk_acme'.",
              },
            );
          }
          const fresh = newSecret(prefix, input.tenantId);
          const [row] = await sql<AppKey[]>`
            insert into tenancy.app_keys
              (tenant_id, app_id, key_id, prefix, secret_hash, name, environment, scopes, user_id, metadata, expires_at)
            values (${input.tenantId}, ${input.appId}, ${fresh.keyId}, ${prefix}, ${fresh.hash}, ${input.name ?? null},
                    ${environment}, ${input.scopes ?? []}::text[], ${input.userId ?? null}, ${jsonb(sql, input.metadata ?? {})},
                    ${input.expiresAt ?? null})
            returning ${cols}`;
          return { key: row!, secret: fresh.secret };
        },
      ),

    /**
     * The key whose secret this is, or null: unknown, revoked, expired, or its tenant soft-deleted.
     * Looks the key up by the secret's hash and compares in constant time; records lastUsedAt
     * (at most once per LAST_USED_RESOLUTION_SECONDS).
     */
    verify: mapErrors(ctx, async (secret: string): Promise<AppKey | null> => {
      if (typeof secret !== 'string' || secret === '') return null;
      const route = tenantOfSecret(secret);
      if (route === null) return null;
      const hash = hashSecret(secret);
      let tenantId: string;
      if (route === 'legacy') {
        // A key issued before migration 20261205000003: its secret names no tenant, so find the
        // tenant by the hash alone (app_keys_secret_hash_key leads with the hash). On Citus this
        // asks every shard, and only these keys pay for it; rotating one issues a routed secret.
        const [owner] = await sql<{ tenantId: string }[]>`
          select tenant_id as "tenantId" from tenancy.app_keys where secret_hash = ${hash} limit 1`;
        if (!owner) return null;
        tenantId = owner.tenantId;
      } else {
        tenantId = route.tenantId;
      }
      const [row] = await sql<(AppKey & { secretHash: Buffer })[]>`
        with k as (
          select a.*, (a.revoked_at is null and (a.expires_at is null or a.expires_at > now())
                       and t.deleted_at is null) as usable
            from tenancy.app_keys a join tenancy.tenants t on t.id = a.tenant_id
           where a.tenant_id = ${tenantId} and a.secret_hash = ${hash}
        ), touched as (
          update tenancy.app_keys set last_used_at = now()
           where tenant_id = ${tenantId} and id in (select id from k where usable)
             and (last_used_at is null or last_used_at < now() - make_interval(secs => ${LAST_USED_RESOLUTION_SECONDS}))
          returning last_used_at
        )
        select ${verifyCols} from k where usable`;
      if (!row) return null;
      const matches = row.secretHash.length === hash.length && timingSafeEqual(row.secretHash, hash);
      // The hash is the row's last property: deleting it keeps the object's shape fast.
      delete (row as { secretHash?: Buffer }).secretHash;
      return matches ? row : null;
    }),

    /** The app's key with this public id, or null (a key of another tenant or app is null too). */
    getByKeyId: (tenantId: string, appId: string, keyId: string): Promise<AppKey | null> =>
      guard(ctx, () => getByKeyId(tenantId, appId, keyId)),

    /** The app's keys, oldest first; revoked ones only with includeRevoked. */
    list: (tenantId: string, appId: string, listOptions?: AppKeyListOptions): Promise<AppKey[]> =>
      guard(ctx, async () => {
        const options = optionsOf('app key', listOptions);
        optionalText('app key', { environment: options.environment, userId: options.userId });
        // A userId filter that is no user's id matches no key.
        if (!textKeys(tenantId, appId) || (options.userId != null && !isUuid(options.userId))) return [];
        return sql<AppKey[]>`
          select ${cols} from tenancy.app_keys
           where tenant_id = ${tenantId} and app_id = ${appId}
             and (${options.includeRevoked === true} or revoked_at is null)
             and (${options.environment ?? null}::text is null or environment = ${options.environment ?? null})
             and (${options.userId ?? null}::uuid is null or user_id = ${options.userId ?? null})
           order by created_at, id`;
      }),

    /**
     * Atomically revokes the key and creates its successor (same name, prefix, scopes,
     * environment, user, metadata), returning the new secret once. Of concurrent rotations of
     * one key exactly one succeeds; the others get ConcurrentWriteConflictError (as does rotating
     * a revoked key). NotFoundError when missing.
     */
    rotate: mapErrors(
      ctx,
      async (tenantId: string, appId: string, keyId: string, rotateOptions?: RotateOptions): Promise<RotatedAppKey> => {
        const options = optionsOf('app key', rotateOptions);
        checkExpiry(options.expiresAt);
        if (!textKeys(tenantId, appId, keyId)) throw new NotFoundError('app key', key(tenantId, appId, keyId));
        try {
          return await atomic(sql, async (tx) => {
            // The row lock makes concurrent rotations queue here; the losers then see revoked_at set.
            const [previous] = await tx<AppKey[]>`
            update tenancy.app_keys set revoked_at = now()
             where key_id = ${keyId} and tenant_id = ${tenantId} and app_id = ${appId} and revoked_at is null
            returning ${cols}`;
            if (!previous) {
              const [exists] = await tx`
              select 1 from tenancy.app_keys where key_id = ${keyId} and tenant_id = ${tenantId} and app_id = ${appId}`;
              if (!exists) throw new NotFoundError('app key', key(tenantId, appId, keyId));
              throw new ConcurrentWriteConflictError(`app key ${keyId} was revoked or rotated already`, {
                expected: 'active',
                actual: 'revoked',
              });
            }
            const fresh = newSecret(previous.prefix, previous.tenantId);
            const expiresAt =
              options.expiresAt === undefined
                ? tx`case when expires_at is null then null else now() + (expires_at - created_at) end`
                : tx`${options.expiresAt}::timestamptz`;
            const [created] = await tx<AppKey[]>`
            insert into tenancy.app_keys
              (tenant_id, app_id, key_id, prefix, secret_hash, name, environment, scopes, user_id, metadata, expires_at, rotated_from)
            select tenant_id, app_id, ${fresh.keyId}, prefix, ${fresh.hash}, name, environment, scopes, user_id, metadata,
                   ${expiresAt}, id
              from tenancy.app_keys where id = ${previous.id}
            returning ${cols}`;
            return { key: created!, secret: fresh.secret, previous };
          });
        } catch (error) {
          // Belt and braces: the unique successor index caught a second rotation.
          if ((error as { constraint_name?: string }).constraint_name === 'app_keys_rotated_from_key') {
            throw new ConcurrentWriteConflictError(`app key ${keyId} was rotated concurrently`, {
              expected: 'active',
              actual: 'revoked',
              cause: error,
            });
          }
          throw error;
        }
      },
    ),

    /** Revokes the key by its public id (a revoked key is returned unchanged); NotFoundError when missing. */
    revoke: mapErrors(ctx, async (tenantId: string, appId: string, keyId: string): Promise<AppKey> => {
      if (!textKeys(tenantId, appId, keyId)) throw new NotFoundError('app key', key(tenantId, appId, keyId));
      const [row] = await sql<AppKey[]>`
        update tenancy.app_keys set revoked_at = now()
         where key_id = ${keyId} and tenant_id = ${tenantId} and app_id = ${appId} and revoked_at is null
        returning ${cols}`;
      const found = row ?? (await getByKeyId(tenantId, appId, keyId));
      if (!found) throw new NotFoundError('app key', key(tenantId, appId, keyId));
      return found;
    }),

    /**
     * Deletes the key for good; NotFoundError when missing. Its successor (if it was rotated)
     * stays, with rotatedFrom cleared: done here, not by the foreign key, because Citus refuses
     * ON DELETE SET NULL on a key that includes tenant_id (migration 20261205000003).
     */
    delete: mapErrors(ctx, async (tenantId: string, appId: string, keyId: string): Promise<void> => {
      if (!textKeys(tenantId, appId, keyId)) throw new NotFoundError('app key', key(tenantId, appId, keyId));
      await atomic(sql, async (tx) => {
        // Locked first: a rotation of this key either committed its successor already (cleared
        // below) or waits for this delete and then finds no key.
        const [row] = await tx<{ id: string }[]>`
          select id from tenancy.app_keys where key_id = ${keyId} and tenant_id = ${tenantId} and app_id = ${appId} for update`;
        if (!row) throw new NotFoundError('app key', key(tenantId, appId, keyId));
        await tx`update tenancy.app_keys set rotated_from = null where tenant_id = ${tenantId} and rotated_from = ${row.id}`;
        await tx`delete from tenancy.app_keys where tenant_id = ${tenantId} and id = ${row.id}`;
      });
    }),
  };
}

export type AppKeysStore = ReturnType<typeof createAppKeysStore>;
