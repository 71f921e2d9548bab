/**
 * Nonces (auth.nonces): single-use expiring values (OAuth state, OIDC nonce, email links).
 * Consuming deletes the row, so of concurrent consumers exactly one gets it.
 */
import { randomBytes } from 'node:crypto';
import { DuplicateError, ValidationError } from '../../errors.js';
import { type ErrorContext, mapErrors } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import { checkTtl, type Nonce } from './types.js';

const ctx: ErrorContext = { entity: 'nonce', uniqueFields: { nonces_pkey: 'value' } };

const COLUMNS = `value, expires_at as "expiresAt", created_at as "createdAt"`;

/** A fresh random nonce value (base64url, 256 bits), for callers that need one. */
export function randomNonceValue(): string {
  return randomBytes(32).toString('base64url');
}

/** Builds the nonces store on `sql` (a pool or a transaction). */
export function createNoncesStore(sql: Queryable) {
  const cols = sql.unsafe(COLUMNS);

  return {
    /**
     * Stores a value that can be consumed once within `ttlSeconds`. A value still live is a
     * DuplicateError on 'value'; an expired leftover with the same value is replaced.
     */
    create: mapErrors(ctx, async (value: string, ttlSeconds: number): Promise<Nonce> => {
      const ttl = checkTtl('nonce', ttlSeconds);
      if (typeof value !== 'string' || value === '')
        throw new ValidationError('nonce: value must be a non-empty string', { field: 'value' });
      const [row] = await sql<Nonce[]>`
        insert into auth.nonces as n (value, expires_at) values (${value}, now() + make_interval(secs => ${ttl}))
        on conflict (value) do update set expires_at = excluded.expires_at, created_at = now()
          where n.expires_at <= now()
        returning ${cols}`;
      if (!row) throw new DuplicateError('nonce', 'value');
      return row;
    }),

    /**
     * Uses a nonce up: the nonce when it existed and had not expired, else null. A second
     * consume, or a concurrent one that lost, gets null. Expired rows are removed on the way.
     */
    consume: mapErrors(ctx, async (value: string): Promise<Nonce | null> => {
      if (typeof value !== 'string' || value === '') return null;
      const [row] = await sql<(Nonce & { live: boolean })[]>`
        delete from auth.nonces where value = ${value} returning ${cols}, expires_at > now() as live`;
      if (!row?.live) return null;
      return { value: row.value, expiresAt: row.expiresAt, createdAt: row.createdAt };
    }),

    /** Deletes expired nonces; returns how many. */
    purgeExpired: mapErrors(ctx, async (): Promise<number> => {
      const [row] = await sql<{ n: number }[]>`
        with gone as (delete from auth.nonces where expires_at <= now() returning 1) select count(*)::int as n from gone`;
      return row?.n ?? 0;
    }),
  };
}

export type NoncesStore = ReturnType<typeof createNoncesStore>;
