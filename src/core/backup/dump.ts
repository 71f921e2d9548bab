/**
 * The dump phase of `pgstore backup`: pg_dump into the partial folder and the exact row counts,
 * both in one exported snapshot (the counts and the archive agree), with progress as it goes.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConnection } from '../../db/config.js';
import type { Db } from '../../db/pool.js';
import { LockTimeoutError } from '../../errors.js';
import { exportSnapshot, newestMigrationVersion, tableRowCounts, type TableRows } from '../../store/admin/index.js';
import type { findPgClient } from '../../tools/pg-client.js';
import { type Compression, type DumpedFile, type DumpFormat, runPgDump } from '../../tools/pg-dump.js';
import type { ProgressSink } from '../../types/progress.js';
import { bytesUnder } from './folder.js';
import { backupId, backupStamp, dumpName } from './paths.js';

/** Where a backup goes and how it is written: the flags, checked, and the folder. */
export interface BackupPlan {
  format: DumpFormat;
  compression: Compression | undefined;
  label: string | undefined;
  now: () => Date;
  dir: string;
  database: string;
  folder: string;
}

/** A backup in progress: its partial folder (removed on failure) and whether it was taken. */
export interface BackupRun {
  partial?: string | undefined;
  taken: boolean;
  started: number;
  leftoversRemoved: string[];
}

/** The server and the pg_dump that can dump it. */
export interface Client {
  serverVersion: string;
  serverMajor: number;
  pgDump: Awaited<ReturnType<typeof findPgClient>>;
  compressArgs: string[];
}

/** What pg_dump and the row counts produced, in one snapshot, in the partial folder. */
export interface Dumped {
  id: string;
  partial: string;
  dump: string;
  startedAt: Date;
  serverVersion: string;
  serverMajor: number;
  pgDumpVersion: string;
  tables: TableRows[];
  /** Tables pg_dump reported done (progress). */
  tablesDone: number;
  migrationVersion: string | null;
  /** The dump's one file, hashed as it was written (custom and plain formats). */
  streamed: DumpedFile | undefined;
}

/**
 * pg_dump into a new partial folder, and the exact row counts and the newest migration read
 * in the snapshot pg_dump uses (pg_export_snapshot + --snapshot): the manifest describes
 * exactly the dump. Progress is polled from the bytes written.
 */
export async function dumpInOneSnapshot(
  sql: Db,
  conn: ServerConnection,
  client: Client,
  plan: BackupPlan,
  options: { onProgress?: ProgressSink | undefined; jobs?: number | undefined },
  run: BackupRun,
): Promise<Dumped> {
  const { pgDump, compressArgs } = client;
  const startedAt = plan.now();
  const id = backupId(backupStamp(startedAt), plan.label);
  const partial = join(plan.folder, `.partial-${id}`);
  run.partial = partial;
  mkdirSync(partial, { mode: 0o700 });
  const dump = dumpName(plan.format, plan.compression);
  const output = join(partial, dump);

  const progress = { phase: 'dumping', unit: 'bytes' as const, tablesDone: 0, tablesTotal: 0, bytes: 0 };
  const report = () => options.onProgress?.({ ...progress });
  const poll = options.onProgress
    ? setInterval(() => {
        progress.bytes = bytesUnder(output);
        report();
      }, 250)
    : undefined;
  let tables: TableRows[] = [];
  let migrationVersion: string | null = null;
  let streamed: DumpedFile | undefined;
  try {
    await sql.begin('isolation level repeatable read read only', async (tx) => {
      const snapshot = await exportSnapshot(tx);
      const dumping = runPgDump({
        conn,
        pgDumpPath: pgDump.path,
        format: plan.format,
        output,
        jobs: options.jobs,
        compressArgs,
        snapshot,
        lockWaitTimeoutMs: conn.lockTimeoutMs,
        onTable: () => {
          progress.tablesDone++;
          report();
        },
      });
      const counting = (async () => {
        tables = await tableRowCounts(tx);
        progress.tablesTotal = tables.length;
        migrationVersion = await newestMigrationVersion(tx);
      })();
      const [dumped, counted] = await Promise.allSettled([dumping, counting]);
      // When both failed, the count's error is reported unless pg_dump's own is a lock timeout:
      // a count that failed (a lock not granted in time, say) ended the transaction that
      // exported the snapshot, and pg_dump then could not import it (exit 1, "could not import
      // the requested snapshot"), which hid the cause (exit 3, the table and its holder). Other
      // double failures share a cause (a lost connection, a missing privilege): either says it.
      if (dumped.status === 'rejected' && counted.status === 'rejected' && !(dumped.reason instanceof LockTimeoutError))
        throw counted.reason;
      if (dumped.status === 'rejected') throw dumped.reason;
      streamed = dumped.value;
      // The phase's last event carries the dump's size: a dump shorter than the poll's
      // interval reported none at all.
      if (options.onProgress) {
        progress.bytes = bytesUnder(output);
        report();
      }
      if (counted.status === 'rejected') throw counted.reason;
    });
  } finally {
    if (poll) clearInterval(poll);
  }
  return {
    id,
    partial,
    dump,
    startedAt,
    serverVersion: client.serverVersion,
    serverMajor: client.serverMajor,
    pgDumpVersion: pgDump.version,
    tables,
    tablesDone: progress.tablesDone,
    migrationVersion,
    streamed,
  };
}
