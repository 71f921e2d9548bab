/**
 * Indexes left invalid by a failed CREATE INDEX CONCURRENTLY (pg_index.indisvalid false): the
 * server keeps them, they slow every write, and a retry of the same statement fails on them.
 */
import type { Db } from '../../db/pool.js';

/** Of the named indexes (as written in the SQL, resolved with this session's search_path), the invalid ones. */
export async function invalidIndexes(sql: Db, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await sql<{ name: string }[]>`
    select c.oid::regclass::text as name
      from jsonb_array_elements_text(${JSON.stringify(names)}::text::jsonb) as n(name)
      join pg_class c on c.oid = to_regclass(n.name)
      join pg_index i on i.indexrelid = c.oid
     where not i.indisvalid`;
  return rows.map((r) => r.name);
}

/** Drops an index without blocking writes (the name as `regclass::text` gives it). */
export async function dropIndexConcurrently(sql: Db, name: string): Promise<void> {
  const [row] = await sql<{ ident: string | null }[]>`
    select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as ident
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = to_regclass(${name})`;
  if (row?.ident) await sql.unsafe(`drop index concurrently if exists ${row.ident}`);
}

/** Runs `fn` with this session's lock_timeout set to `ms`, then back to its default. */
export async function withLockTimeout<T>(sql: Db, ms: number, fn: () => Promise<T>): Promise<T> {
  await sql.unsafe(`set lock_timeout = ${Math.round(ms)}`);
  try {
    return await fn();
  } finally {
    await sql.unsafe('reset lock_timeout').catch(() => undefined);
  }
}
