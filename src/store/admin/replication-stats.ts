/**
 * Read-only replication statistics for `pgstore health`, from both ends: on a server with
 * replicas (a primary, or a standby with cascaded ones) pg_stat_replication, the replication
 * slots and the WAL archiver; on a standby, its own replay and WAL receiver.
 */
import type { Db } from '../../db/pool.js';

export interface ReplicaStatus {
  /** application_name, else the client address, else the walsender's pid. */
  name: string;
  state: string;
  syncState: string;
  /** Bytes of WAL this server has that the replica has not replayed (flushed, when it never replays). */
  lagBytes: number | null;
  /** pg_stat_replication.replay_lag in seconds; 0 once caught up and idle (PostgreSQL shows NULL then). */
  lagSeconds: number | null;
}

export interface SlotStatus {
  name: string;
  type: string;
  active: boolean;
  /** reserved, extended, unreserved or lost (NULL when the slot never reserved WAL). */
  walStatus: string | null;
  /** Bytes of WAL kept for this slot (from its restart_lsn). */
  retainedBytes: number | null;
}

export interface ArchiverStatus {
  /** archive_mode: off, on or always. */
  mode: string;
  archivedCount: number;
  lastArchivedWal: string | null;
  lastArchivedTime: Date | null;
  failedCount: number;
  lastFailedWal: string | null;
  lastFailedTime: Date | null;
  /** The last attempt failed: last_failed_time is newer than last_archived_time. */
  failing: boolean;
  /** WAL segments waiting for archive_command (.ready files); null without pg_monitor. */
  readySegments: number | null;
}

export interface StandbyReplay {
  /** WAL received but not replayed yet, in bytes. */
  lagBytes: number | null;
  /** 0 when everything received is replayed, else seconds since the last replayed commit. */
  lagSeconds: number | null;
  replayPaused: boolean;
}

export interface WalReceiverStatus {
  /** primary_conninfo is set (null when this role cannot read it). */
  configured: boolean | null;
  /** The receiver's status (streaming, waiting...), null when none runs or it is hidden. */
  status: string | null;
  running: boolean;
  sender: string | null;
  /** Seconds since the last message from the sender (keepalives count). */
  lastMessageSeconds: number | null;
}

/** This server's newest WAL position: the write position on a primary, received or replayed on a standby. */
const CURRENT_LSN = `case when pg_is_in_recovery()
  then greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
  else pg_current_wal_lsn() end`;

/**
 * The replicas streaming from this server. pg_basebackup's own connections (the copy, state
 * `backup`, and its WAL stream, application_name pg_basebackup) are not replicas.
 */
export async function replicaStatuses(sql: Db): Promise<ReplicaStatus[]> {
  const rows = await sql.unsafe<
    { name: string; state: string; sync_state: string; lag_bytes: number | null; lag_seconds: number | null }[]
  >(`
    select coalesce(nullif(application_name, ''), client_addr::text, pid::text) as name, state, sync_state,
           greatest(0, ${CURRENT_LSN} - coalesce(replay_lsn, flush_lsn))::float8 as lag_bytes,
           extract(epoch from replay_lag)::float8 as lag_seconds
      from pg_stat_replication
     where state <> 'backup' and application_name is distinct from 'pg_basebackup'
     order by 1, pid`);
  return rows.map((r) => ({
    name: r.name,
    state: r.state,
    syncState: r.sync_state,
    lagBytes: r.lag_bytes,
    lagSeconds: r.lag_seconds ?? (r.lag_bytes === 0 ? 0 : null),
  }));
}

/** The permanent replication slots and the WAL each one keeps. */
export async function slotStatuses(sql: Db): Promise<SlotStatus[]> {
  const rows = await sql.unsafe<
    { name: string; type: string; active: boolean; wal_status: string | null; retained: number | null }[]
  >(`
    select slot_name as name, slot_type as type, active, wal_status,
           greatest(0, ${CURRENT_LSN} - restart_lsn)::float8 as retained
      from pg_replication_slots
     where not temporary
     order by slot_name`);
  return rows.map((r) => ({
    name: r.name,
    type: r.type,
    active: r.active,
    walStatus: r.wal_status,
    retainedBytes: r.retained,
  }));
}

/** pg_stat_archiver, with archive_mode and the segments waiting. */
export async function archiverStatus(sql: Db): Promise<ArchiverStatus> {
  // Both statements at once (pipelined: one round trip); each ends with its own Sync, so the
  // count failing fails only itself. (A CASE on has_function_privilege cannot keep it in one
  // statement: the server checks EXECUTE when it plans the call, not when it runs it.)
  const [[row], readySegments] = await Promise.all([
    sql<
      {
        mode: string;
        archived_count: string;
        last_archived_wal: string | null;
        last_archived_time: Date | null;
        failed_count: string;
        last_failed_wal: string | null;
        last_failed_time: Date | null;
        failing: boolean;
      }[]
    >`
      select current_setting('archive_mode') as mode, archived_count, last_archived_wal, last_archived_time,
             failed_count, last_failed_wal, last_failed_time,
             coalesce(last_failed_time > last_archived_time, last_failed_time is not null) as failing
        from pg_stat_archiver`,
    sql<{ n: number }[]>`select count(*)::int as n from pg_ls_archive_statusdir() where name like '%.ready'`.then(
      ([ready]) => ready!.n,
      (error) => {
        // 42501: listing pg_wal/archive_status needs superuser or pg_monitor; the rest is public.
        if ((error as { code?: string }).code !== '42501') throw error;
        return null;
      },
    ),
  ]);
  const r = row!;
  return {
    mode: r.mode,
    archivedCount: Number(r.archived_count),
    lastArchivedWal: r.last_archived_wal,
    lastArchivedTime: r.last_archived_time,
    failedCount: Number(r.failed_count),
    lastFailedWal: r.last_failed_wal,
    lastFailedTime: r.last_failed_time,
    failing: r.failing,
    readySegments,
  };
}

/**
 * On a standby: how far replay is behind what was received. Equal positions mean caught up,
 * however long ago the last commit was (an idle primary is no lag). Harmless on a primary (no
 * lag, not paused), so health can send it with everything else before it knows which it is on.
 */
export async function standbyReplay(sql: Db): Promise<StandbyReplay> {
  const [row] = await sql<{ lag_bytes: number | null; lag_seconds: number | null; paused: boolean }[]>`
    select greatest(0, pg_last_wal_receive_lsn() - pg_last_wal_replay_lsn())::float8 as lag_bytes,
           case when pg_last_wal_receive_lsn() is null or pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() then 0
                else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 end as lag_seconds,
           case when pg_is_in_recovery() then pg_get_wal_replay_pause_state() <> 'not paused' else false end as paused`;
  return { lagBytes: row!.lag_bytes, lagSeconds: row!.lag_seconds, replayPaused: row!.paused };
}

/** On a standby: is its WAL receiver streaming from the primary. */
export async function walReceiverStatus(sql: Db): Promise<WalReceiverStatus> {
  const [row] = await sql<
    {
      configured: boolean | null;
      status: string | null;
      running: boolean;
      sender: string | null;
      last_msg: number | null;
    }[]
  >`
    select (select setting <> '' from pg_settings where name = 'primary_conninfo') as configured,
           r.status, r.pid is not null as running,
           r.sender_host || ':' || r.sender_port as sender,
           extract(epoch from now() - r.last_msg_receipt_time)::float8 as last_msg
      from (select 1) as one left join pg_stat_wal_receiver r on true`;
  return {
    configured: row!.configured,
    status: row!.status,
    running: row!.running,
    sender: row!.sender,
    lastMessageSeconds: row!.last_msg,
  };
}
