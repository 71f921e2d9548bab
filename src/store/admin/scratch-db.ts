/**
 * SQL for the scratch databases of `migrate plan --rehearse` and `migrate diff`: their
 * names, the session lock that marks one as in use, and the locks a migrating transaction
 * holds. Identifiers are always quoted.
 */
import type { Db } from '../../db/pool.js';
import { guard } from '../map-error.js';
import type { HeldLock } from '../../types/migrate-plan.js';

export type { HeldLock } from '../../types/migrate-plan.js';

const ctx = { entity: 'database' };

/** Databases whose names match `pattern` (a POSIX regular expression). */
export async function databasesMatching(sql: Db, pattern: string): Promise<string[]> {
  return guard(ctx, async () =>
    (await sql<{ name: string }[]>`select datname as name from pg_database where datname ~ ${pattern} order by 1`).map(
      (r) => r.name,
    ),
  );
}

/** Takes the session advisory lock `name` if free; true when taken. */
export async function tryAdvisoryLock(sql: Db, name: string): Promise<boolean> {
  const [row] = await sql<{ ok: boolean }[]>`select pg_try_advisory_lock(hashtextextended(${name}, 0)) as ok`;
  return !!row?.ok;
}

export async function advisoryUnlock(sql: Db, name: string): Promise<void> {
  await sql`select pg_advisory_unlock(hashtextextended(${name}, 0))`;
}

/** Drops a database, terminating its sessions. */
export async function dropDatabaseIfExists(sql: Db, name: string): Promise<void> {
  await guard(ctx, () => sql.unsafe(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`));
}

/**
 * The relation locks this session's transaction holds, strongest first, without those on
 * system catalogs (every statement takes some) and on pg_locks itself.
 */
export async function heldRelationLocks(tx: Db): Promise<HeldLock[]> {
  const rows = await tx<{ relation: string; mode: string }[]>`
    select n.nspname || '.' || c.relname as relation, l.mode
      from pg_locks l
      join pg_class c on c.oid = l.relation
      join pg_namespace n on n.oid = c.relnamespace
     where l.pid = pg_backend_pid() and l.locktype = 'relation' and l.granted
       and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
     order by case l.mode when 'AccessExclusiveLock' then 0 when 'ExclusiveLock' then 1 when 'ShareRowExclusiveLock' then 2
                          when 'ShareLock' then 3 when 'ShareUpdateExclusiveLock' then 4 when 'RowExclusiveLock' then 5
                          when 'RowShareLock' then 6 else 7 end, 1`;
  return rows.map((r) => ({ relation: r.relation, mode: lockModeName(r.mode) }));
}

/** "AccessExclusiveLock" → "ACCESS EXCLUSIVE", as the documentation names the modes. */
function lockModeName(mode: string): string {
  return mode
    .replace(/Lock$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}

/**
 * Applies a file's up section as dbmate would: in one transaction (reading the locks it holds
 * before the commit), or as one query without a transaction for transaction:false.
 */
export async function applyUpSection(sql: Db, up: { sql: string; transactional: boolean }): Promise<HeldLock[] | null> {
  if (!up.transactional) {
    // One query, as dbmate sends it (several statements then run as one implicit transaction).
    await sql.unsafe(up.sql);
    return null;
  }
  // BEGIN/COMMIT by hand rather than sql.begin(): after a failure, sql.begin() sends ROLLBACK
  // even on a connection the server closed (the scratch database dropped on SIGTERM), and
  // postgres.js then crashes the process from a timer (porsager/postgres#1208).
  await sql.unsafe('begin');
  try {
    await sql.unsafe(up.sql);
    const locks = await heldRelationLocks(sql);
    await sql.unsafe('commit');
    return locks;
  } catch (error) {
    if (!connectionGone(error)) await sql.unsafe('rollback').catch(() => undefined);
    throw error;
  }
}

function connectionGone(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return /^57P0[123]$/.test(code) || code.startsWith('CONNECTION_');
}
