/**
 * `pgstore backup`: pg_dump into `<dir>/<database>/.partial-<id>/`, exact row counts taken in
 * the same snapshot, sha256 of every file, manifest.json, fsync, optional verification, and
 * only then a rename to `<dir>/<database>/<id>/`. A failed or killed run leaves nothing that
 * `backup list` shows or retention counts (the next run removes its leftovers). Retention runs
 * only after a successful backup.
 */
import { closeSync, constants, existsSync, fchmodSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { connectPool, serverFor } from '../../db/pool.js';
import { ConflictError, PgstoreError, UsageError } from '../../errors.js';
import { serverIdentity } from '../../store/admin/index.js';
import { exportSnapshot, newestMigrationVersion, tableRowCounts, type TableRows } from '../../store/admin/index.js';
import { findPgClient } from '../../tools/pg-client.js';
import { compressionArgs, type DumpedFile, type DumpFormat, runPgDump } from '../../tools/pg-dump.js';
import { fsyncDir } from '../../util/atomic-file.js';
import { listBackups, removeLeftovers } from './catalog.js';
import { type BackupManifest, checksumFiles, type ManifestFile, writeManifest } from './manifest.js';
import { writeBackupMetrics } from './metrics.js';
import { applyRetention, lockBackups, type PruneResult } from './ops.js';
import { backupId, backupStamp, checkLabel, databaseFolder, describeCompression, dumpName, parseCompression, resolveBackupDir } from './paths.js';
import { verifyBackupFolder, type VerifyMethod } from './verify.js';
import type { CoreOptions } from '../options.js';
import type { ProgressSink } from '../progress.js';

export interface BackupOptions extends CoreOptions {
  dir?: string | undefined;
  format?: DumpFormat;
  /** Parallel pg_dump jobs (directory format only). */
  jobs?: number;
  /** METHOD[:LEVEL]: gzip, lz4, zstd (pg_dump 16+), none. */
  compress?: string | undefined;
  label?: string | undefined;
  verify?: VerifyMethod | undefined;
  keepLast?: number | undefined;
  keepDays?: number | undefined;
  metricsFile?: string | undefined;
  onProgress?: ProgressSink | undefined;
  now?: () => Date;
}

export interface BackupResult {
  id: string;
  database: string;
  path: string;
  manifest: BackupManifest;
  /** What retention did (null when no --keep-* was given). */
  retention: PruneResult | null;
  /** Leftovers of earlier failed runs that were removed. */
  leftoversRemoved: string[];
}

/** pgstore's own version (its package.json). */
export function pgstoreVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Checks the flags before anything runs; throws a UsageError (exit 2). */
function checkOptions(o: BackupOptions): void {
  const format = o.format ?? 'custom';
  if (!['custom', 'directory', 'plain'].includes(format)) throw new UsageError(`--format must be custom, directory or plain, got '${format}'`);
  if (o.jobs !== undefined && (!Number.isInteger(o.jobs) || o.jobs < 1)) throw new UsageError('--jobs must be a whole number ≥ 1');
  if ((o.jobs ?? 1) > 1 && format !== 'directory') {
    throw new UsageError(`--jobs ${o.jobs} needs --format directory (pg_dump writes in parallel only to a directory)`, { hint: 'Add --format directory, or drop --jobs.' });
  }
  if (o.keepLast !== undefined && (!Number.isInteger(o.keepLast) || o.keepLast < 1)) throw new UsageError('--keep-last must be a whole number ≥ 1');
  if (o.keepDays !== undefined && !(o.keepDays > 0)) throw new UsageError('--keep-days must be a number of days > 0');
  if (o.verify !== undefined && !['read', 'restore'].includes(o.verify)) throw new UsageError(`--verify must be read or restore, got '${o.verify}'`);
  if (o.metricsFile !== undefined && !existsSync(dirname(resolve(o.metricsFile)))) {
    throw new UsageError(`the folder of --metrics-file ${o.metricsFile} does not exist`, { hint: "Create it, or point --metrics-file at node_exporter's textfile folder." });
  }
}

/** Takes one backup of the target database; see the file comment for the guarantees. */
export async function backup(options: BackupOptions): Promise<BackupResult> {
  checkOptions(options);
  const format = options.format ?? 'custom';
  const compression = parseCompression(options.compress);
  const label = checkLabel(options.label);
  const now = options.now ?? (() => new Date());
  const dir = resolveBackupDir(options.dir, options.env);
  const target = options.target;
  const database = target.database;
  const folder = databaseFolder(dir, database);
  const started = performance.now();
  const lock = await lockBackups(folder, database);
  let partial: string | undefined;
  let taken = false;
  try {
    const leftoversRemoved = removeLeftovers(folder);
    const conn = await serverFor(target, { log: options.log });
    const { sql } = await connectPool(conn, { max: 1, log: options.log });
    let manifest: BackupManifest;
    let id: string;
    try {
      const identity = await serverIdentity(sql);
      const serverMajor = Math.floor(identity.versionNum / 10000);
      const pgDump = await findPgClient('pg_dump', serverMajor, options.env);
      const compressArgs = compressionArgs(compression, pgDump.major);
      const startedAt = now();
      id = backupId(backupStamp(startedAt), label);
      partial = join(folder, `.partial-${id}`);
      mkdirSync(partial, { mode: 0o700 });
      const dump = dumpName(format, compression);
      const output = join(partial, dump);

      const progress = { phase: 'dumping', tablesDone: 0, tablesTotal: 0, bytes: 0 };
      const report = () => options.onProgress?.({ ...progress });
      const poll = options.onProgress ? setInterval(() => {
        progress.bytes = bytesUnder(output);
        report();
      }, 250) : undefined;
      let tables: TableRows[] = [];
      let migrationVersion: string | null = null;
      let streamed: DumpedFile | undefined;
      try {
        // One snapshot for pg_dump and the row counts: the manifest describes exactly the dump.
        await sql.begin('isolation level repeatable read read only', async (tx) => {
          const snapshot = await exportSnapshot(tx);
          const dumping = runPgDump({
            conn,
            pgDumpPath: pgDump.path,
            format,
            output,
            jobs: options.jobs,
            compressArgs,
            snapshot,
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
          if (dumped.status === 'rejected') throw dumped.reason;
          streamed = dumped.value;
          if (counted.status === 'rejected') throw counted.reason;
        });
      } finally {
        if (poll) clearInterval(poll);
      }
      let files: ManifestFile[];
      if (streamed) {
        // Hashed as it was written (and fsynced, 0600): no second read of the archive.
        files = [{ path: dump, ...streamed }];
      } else {
        restrictModes(partial);
        options.onProgress?.({ phase: 'checksums', tablesDone: progress.tablesDone, tablesTotal: progress.tablesTotal, bytes: bytesUnder(output) });
        files = await checksumFiles(partial);
        fsyncTree(partial);
      }
      fsyncDir(partial);
      const finishedAt = now();
      manifest = {
        id,
        database,
        serverVersion: identity.version,
        pgDumpVersion: pgDump.version,
        pgstoreVersion: pgstoreVersion(),
        format,
        compression: describeCompression(compression, format),
        dump,
        label: label ?? null,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        sizeBytes: files.reduce((sum, f) => sum + f.bytes, 0),
        files,
        migrationVersion,
        tables,
        verified: null,
      };
      writeManifest(partial, manifest);
      if (options.verify) {
        manifest.verified = await verifyBackupFolder(partial, manifest, options.verify, {
          env: options.env,
          conn,
          serverMajor,
          jobs: options.jobs,
          onProgress: options.onProgress,
        });
        writeManifest(partial, manifest);
      }
    } finally {
      await sql.end({ timeout: 5 }).catch(() => undefined);
    }
    const path = join(folder, id);
    renameSync(partial, path);
    partial = undefined;
    taken = true;
    fsyncDir(folder);

    let retention: PruneResult | null = null;
    if (options.keepLast !== undefined || options.keepDays !== undefined) {
      try {
        retention = applyRetention(dir, database, { keepLast: options.keepLast, keepDays: options.keepDays }, now(), [id], false);
      } catch (error) {
        writeMetrics(options, database, dir, true, started);
        throw new PgstoreError(`backup ${id} was taken, but retention failed: ${(error as Error).message}`, { cause: error, hint: `The new backup is complete in ${path}.` });
      }
    }
    try {
      writeMetrics(options, database, dir, true, started);
    } catch (error) {
      throw new PgstoreError(`backup ${id} was taken, but the metrics file could not be written: ${(error as Error).message}`, { cause: error, hint: `The backup is complete in ${path}.` });
    }
    return { id, database, path, manifest, retention, leftoversRemoved };
  } catch (error) {
    if (partial) rmSync(partial, { recursive: true, force: true });
    if (!taken && !(error instanceof ConflictError)) {
      try {
        writeMetrics(options, database, dir, false, started);
      } catch {
        // the backup's own error is the one to report
      }
    }
    throw error;
  } finally {
    await lock.release();
  }
}

/** Writes the metrics file when asked; the newest complete backup gives size and last success. */
function writeMetrics(options: BackupOptions, database: string, dir: string, success: boolean, started: number): void {
  if (!options.metricsFile) return;
  const newest = listBackups(dir, database)[0];
  writeBackupMetrics(options.metricsFile, {
    database,
    success,
    durationSeconds: (performance.now() - started) / 1000,
    sizeBytes: newest?.manifest.sizeBytes ?? null,
    lastSuccessAt: newest ? new Date(newest.manifest.finishedAt) : null,
  });
}

/** Bytes written so far under a file or folder (0 when it does not exist yet). */
function bytesUnder(path: string): number {
  try {
    const info = statSync(path);
    if (!info.isDirectory()) return info.size;
    return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
  } catch {
    return 0;
  }
}

/**
 * Files 0600, folders 0700 (a backup holds every row of the database), set through descriptors
 * opened with O_NOFOLLOW: a symlink inside the dump is refused, never followed.
 */
function restrictModes(path: string): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let isDir: boolean;
  try {
    const info = fstatSync(fd);
    isDir = info.isDirectory();
    if (!isDir && !info.isFile()) throw new PgstoreError(`${path} is neither a file nor a folder; pg_dump does not write such things`);
    fchmodSync(fd, isDir ? 0o700 : 0o600);
  } finally {
    closeSync(fd);
  }
  if (isDir) for (const name of readdirSync(path)) restrictModes(join(path, name));
}

/** fsyncs every file and folder under `path` (pg_dump syncs its own output; this covers the rest). */
function fsyncTree(path: string): void {
  const info = statSync(path);
  if (info.isDirectory()) {
    for (const name of readdirSync(path)) fsyncTree(join(path, name));
    fsyncDir(path);
    return;
  }
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
