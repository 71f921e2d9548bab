/**
 * The two statements replica routing needs, and WAL positions as numbers.
 *
 * - The primary's position after a write: pg_current_wal_insert_lsn(), not pg_current_wal_lsn().
 *   With synchronous_commit off (pgstore's test servers, many busy sites) a commit returns once
 *   its record is inserted, before it is written: pg_current_wal_lsn() (the write position) can
 *   then be behind the commit, and a replica that replayed up to it would not show the write.
 *   The insert position is past every record inserted so far, commit records included, and is
 *   read under a spinlock (no cheaper function exists).
 * - The gate on a replica, sent just before the read on the same connection (pipelined: no
 *   extra round trip): the replayed position and the staleness in ms. Staleness is 0 when
 *   everything received is replayed and the WAL receiver runs (an idle primary is no lag, as in
 *   health), else the age of the last replayed commit; a replica that never replayed a commit
 *   but has unreplayed WAL is infinitely stale. A server that is not in recovery has no
 *   replayed position (null): it is not a standby.
 */
import type { Queryable } from '../types/sql.js';

/** "16/B374D848" → 0x16B374D848n. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!match) throw new Error(`not a WAL position: '${text}'`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** 0x16B374D848n → "16/B374D848". */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The primary's WAL insert position. */
export async function primaryPosition(sql: Queryable): Promise<bigint> {
  const [row] = await sql<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
  return parseLsn(row!.lsn);
}

export interface GateRow {
  /** Replayed position; null on a server that is not a standby. */
  replay: string | null;
  /** Staleness in ms (Infinity when unknown). */
  lag_ms: number | null;
}

/**
 * The gate statement (no parameters, so postgres.js pipelines it: a parameterised statement
 * is described first, which waits for a reply). Returns the pending query: the caller sends
 * the read right behind it on the same connection.
 */
export function gateQuery(sql: Queryable, withLag: boolean) {
  // Read-your-writes alone needs only the replayed position: the cheapest statement there is.
  if (!withLag) return sql<GateRow[]>`select pg_last_wal_replay_lsn()::text as replay, null::float8 as lag_ms`;
  return sql<GateRow[]>`
    select pg_last_wal_replay_lsn()::text as replay,
      case when pg_last_wal_replay_lsn() is null then null
           when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                and exists (select 1 from pg_stat_wal_receiver where status is null or status = 'streaming') then 0
           else coalesce(extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000, 'Infinity')
      end::float8 as lag_ms`;
}
