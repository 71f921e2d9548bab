/**
 * Read-only statistics about the server and the current database, for `pgstore health`.
 */
import type { Db } from '../../db/pool.js';

export interface ServerIdentity {
  version: string;
  versionNum: number;
  database: string;
  sizeBytes: number;
  inRecovery: boolean;
}

export interface ConnectionUsage {
  used: number;
  max: number;
  reserved: number;
}

export interface TransactionAges {
  /** Seconds the oldest open transaction has been running (0 when none). */
  oldestSeconds: number;
  idleInTransaction: number;
  /** Seconds the longest idle-in-transaction session has been idle (0 when none). */
  oldestIdleSeconds: number;
}

/** Version, current database and its size, primary or replica. */
export async function serverIdentity(sql: Db): Promise<ServerIdentity> {
  const [row] = await sql<{ version: string; num: string; db: string; size: string; recovery: boolean }[]>`
    select current_setting('server_version') as version,
           current_setting('server_version_num') as num,
           current_database() as db,
           pg_database_size(current_database())::text as size,
           pg_is_in_recovery() as recovery`;
  return {
    version: row!.version,
    versionNum: Number(row!.num),
    database: row!.db,
    sizeBytes: Number(row!.size),
    inRecovery: row!.recovery,
  };
}

/** Client connections in use against max_connections. */
export async function connectionUsage(sql: Db): Promise<ConnectionUsage> {
  const [row] = await sql<{ used: number; max: number; reserved: number }[]>`
    select (select count(*)::int from pg_stat_activity where backend_type = 'client backend') as used,
           current_setting('max_connections')::int as max,
           current_setting('superuser_reserved_connections')::int as reserved`;
  return row!;
}

/** The oldest open transaction and the sessions idle inside a transaction. */
export async function transactionAges(sql: Db): Promise<TransactionAges> {
  const [row] = await sql<{ oldest: number | null; idle: number; oldest_idle: number | null }[]>`
    select max(extract(epoch from now() - xact_start))::float8 as oldest,
           count(*) filter (where state like 'idle in transaction%')::int as idle,
           max(extract(epoch from now() - state_change)) filter (where state like 'idle in transaction%')::float8 as oldest_idle
      from pg_stat_activity
     where backend_type = 'client backend' and pid <> pg_backend_pid() and xact_start is not null`;
  return {
    oldestSeconds: row?.oldest ?? 0,
    idleInTransaction: row?.idle ?? 0,
    oldestIdleSeconds: row?.oldest_idle ?? 0,
  };
}

/** The oldest unfrozen transaction ID age over all databases, and which database has it. */
export async function wraparoundAge(sql: Db): Promise<{ age: number; database: string }> {
  const [row] = await sql<{ age: number; datname: string }[]>`
    select age(datfrozenxid)::int8::float8 as age, datname from pg_database order by age(datfrozenxid) desc limit 1`;
  return { age: row?.age ?? 0, database: row?.datname ?? '' };
}

/** A round trip: milliseconds for `select 1`. */
export async function roundTripMs(sql: Db): Promise<number> {
  const start = performance.now();
  await sql`select 1`;
  return performance.now() - start;
}
