/**
 * What physical backups need to know of a server and change on it: where its data folder and
 * socket are, how it archives WAL (archive_mode, archive_command, archive_library), switching
 * to a new WAL segment (replication-stats.ts's archiverStatus says whether it was archived),
 * and whether it is still recovering.
 */
import type { Db } from '../../db/pool.js';
import { guard } from '../map-error.js';

const ctx = { entity: 'WAL archiving' };

export interface ClusterFacts {
  dataDirectory: string;
  port: number;
  /** The first unix_socket_directories entry ('' when the server has none). */
  socketDirectory: string;
  /** The server's own bin folder (pg_config; null when the role may not read it). */
  binDirectory: string | null;
  archiveMode: string;
  archiveCommand: string;
  archiveLibrary: string;
  walLevel: string;
  superuser: boolean;
  versionNum: number;
  inRecovery: boolean;
}

/** The facts of the server `sql` is connected to (data_directory needs superuser or pg_read_all_settings). */
export async function clusterFacts(sql: Db): Promise<ClusterFacts> {
  return guard(ctx, async () => {
    const [row] = await sql<Array<Record<string, string | boolean | null>>>`
      select current_setting('data_directory') as data_directory,
             current_setting('port') as port,
             current_setting('unix_socket_directories') as sockets,
             current_setting('archive_mode') as archive_mode,
             current_setting('archive_command') as archive_command,
             current_setting('archive_library') as archive_library,
             current_setting('wal_level') as wal_level,
             current_setting('server_version_num') as version_num,
             (select rolsuper from pg_roles where rolname = current_user) as superuser,
             pg_is_in_recovery() as in_recovery`;
    const superuser = row!.superuser === true;
    let binDirectory: string | null = null;
    if (superuser) {
      const [bin] = await sql<Array<{ setting: string }>>`select setting from pg_config where name = 'BINDIR'`;
      binDirectory = bin?.setting ?? null;
    }
    return {
      dataDirectory: String(row!.data_directory),
      port: Number(row!.port),
      socketDirectory: String(row!.sockets ?? '')
        .split(',')[0]!
        .trim(),
      binDirectory,
      archiveMode: String(row!.archive_mode),
      archiveCommand: String(row!.archive_command),
      archiveLibrary: String(row!.archive_library),
      walLevel: String(row!.wal_level),
      superuser,
      versionNum: Number(row!.version_num),
      inRecovery: row!.in_recovery === true,
    };
  });
}

/** A server setting's value as a quoted SQL literal (ALTER SYSTEM takes no parameters). */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * ALTER SYSTEM SET each setting (or RESET it when the value is null). Takes effect on reload or
 * restart. A library's setting (`basic_archive.archive_directory`) is known to the session only
 * once the library is loaded: each library in `load` is loaded first (LOAD, superuser).
 */
export async function alterSystem(
  sql: Db,
  settings: Record<string, string | null>,
  load: string[] = [],
): Promise<void> {
  await guard(ctx, async () => {
    for (const library of load) {
      if (!/^[a-z_]+$/.test(library)) throw new Error(`not a library name: ${library}`);
      await sql.unsafe(`load '${library}'`);
    }
    for (const [name, value] of Object.entries(settings)) {
      if (!/^[a-z_.]+$/.test(name)) throw new Error(`not a setting name: ${name}`);
      await sql.unsafe(value === null ? `alter system reset ${name}` : `alter system set ${name} = ${literal(value)}`);
    }
  });
}

/** Reloads the server's configuration; says which changed settings still wait for a restart. */
export async function reloadConfiguration(sql: Db): Promise<string[]> {
  return guard(ctx, async () => {
    await sql`select pg_reload_conf()`;
    // The postmaster re-reads the files asynchronously; pending_restart shows once it has.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const rows = await sql<Array<{ name: string }>>`select name from pg_settings where pending_restart`;
    return rows.map((r) => r.name);
  });
}

/**
 * Ends the current WAL segment and returns its file name, so that everything committed so far
 * reaches the archive. With nothing written since the last switch, it names the segment before
 * the current one (already complete).
 */
export async function switchWal(sql: Db): Promise<string> {
  return guard(ctx, async () => {
    const [row] = await sql<Array<{ name: string }>>`select pg_walfile_name(pg_switch_wal()) as name`;
    return row!.name;
  });
}

/** Whether the server is still replaying WAL (a standby, or a restore not yet promoted). */
export async function inRecovery(sql: Db): Promise<boolean> {
  return guard(ctx, async () => {
    const [row] = await sql<Array<{ r: boolean }>>`select pg_is_in_recovery() as r`;
    return row!.r;
  });
}

/** The server's clock. */
export async function serverNow(sql: Db): Promise<Date> {
  return guard(ctx, async () => {
    const [row] = await sql<Array<{ now: Date }>>`select clock_timestamp() as now`;
    return row!.now;
  });
}

/**
 * Whether `time` (a timestamptz literal) lies after the server's clock. The server parses it
 * (as text first: postgres.js would turn a string for a timestamptz parameter into a JavaScript
 * Date, which takes 30 February for 2 March).
 */
export async function isInFuture(sql: Db, time: string): Promise<boolean> {
  return guard(ctx, async () => {
    const [row] = await sql<
      Array<{ future: boolean }>
    >`select ${time}::text::timestamptz > clock_timestamp() as future`;
    return row!.future;
  });
}

/** A setting's value, '' when the server does not know it (a library's setting before the library is loaded). */
export async function settingValue(sql: Db, name: string): Promise<string> {
  return guard(ctx, async () => {
    const [row] = await sql<Array<{ value: string | null }>>`select current_setting(${name}, true) as value`;
    return row!.value ?? '';
  });
}

/** The cluster's system identifier (pg_control; a standby shares its primary's). */
export async function systemIdentifier(sql: Db): Promise<string> {
  return guard(ctx, async () => {
    const [row] = await sql<Array<{ id: string }>>`select system_identifier::text as id from pg_control_system()`;
    return row!.id;
  });
}

/** Where a standby gets its WAL from: restore_command ('' when none; null when this role may not read it). */
export async function restoreCommand(sql: Db): Promise<string | null> {
  return guard(ctx, async () => {
    const [row] = await sql<Array<{ setting: string | null }>>`
      select (select setting from pg_settings where name = 'restore_command') as setting`;
    return row!.setting;
  });
}
