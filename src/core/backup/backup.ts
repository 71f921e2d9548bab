/**
 * `pgstore backup`: pg_dump into `<dir>/<database>/.partial-<id>/`, exact row counts taken in
 * the same snapshot, sha256 of every file, manifest.json, fsync, optional verification, and
 * only then a rename to `<dir>/<database>/<id>/`. A failed or killed run leaves nothing that
 * `backup list` shows or retention counts (the next run removes its leftovers). Retention runs
 * only after a successful backup.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ServerConnection } from '../../db/config.js';
import { type Db, withPool } from '../../db/pool.js';
import { ConflictError, PgstoreError, UsageError } from '../../errors.js';
import { serverIdentity } from '../../store/admin/index.js';
import { findPgClient } from '../../tools/pg-client.js';
import { compressionArgs, type DumpFormat } from '../../tools/pg-dump.js';
import { fsyncDir } from '../../util/atomic-file.js';
import type { FileLock } from '../../util/file-lock.js';
import { packageVersion } from '../../util/package-root.js';
import { listBackups, removeLeftovers } from './catalog.js';
import { type BackupPlan, type BackupRun, type Client, type Dumped, dumpInOneSnapshot } from './dump.js';
import { bytesUnder, fsyncTree, restrictModes } from './folder.js';
import { type BackupManifest, checksumFiles, type ManifestFile, writeManifest } from './manifest.js';
import { writeBackupMetrics } from './metrics.js';
import { applyRetention, lockBackups, type PruneResult } from './ops.js';
import { checkLabel, databaseFolder, describeCompression, parseCompression, resolveBackupDir } from './paths.js';
import { checkRetentionRule, hasRetentionRule, type RetentionRule } from './retention.js';
import { verifyBackupFolder, type VerifyMethod } from './verify.js';
import type { CoreOptions } from '../options.js';
import type { ProgressSink } from '../../types/progress.js';

export interface BackupOptions extends CoreOptions {
  dir?: string | undefined;
  format?: DumpFormat;
  /** Parallel pg_dump jobs (directory format only). */
  jobs?: number;
  /** METHOD[:LEVEL]: gzip, lz4, zstd (pg_dump 16+), none. */
  compress?: string | undefined;
  label?: string | undefined;
  verify?: VerifyMethod | undefined;
  /** After a successful backup, apply this retention (the new backup always stays). */
  retention?: RetentionRule | undefined;
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
  /** The whole run, as waited for: the dump (manifest.durationMs), the verification, retention. */
  durationMs: number;
  /** The verification's part of it (null without --verify). */
  verifyDurationMs: number | null;
}

/** pgstore's own version (its package.json). */
export function pgstoreVersion(): string {
  return packageVersion();
}

/** Checks the flags before anything runs; throws a UsageError (exit 2). */
function checkOptions(o: BackupOptions): void {
  const format = o.format ?? 'custom';
  if (!['custom', 'directory', 'plain'].includes(format))
    throw new UsageError(`--format must be custom, directory or plain, got '${format}'`);
  if (o.jobs !== undefined && (!Number.isInteger(o.jobs) || o.jobs < 1))
    throw new UsageError('--jobs must be a whole number ≥ 1');
  if ((o.jobs ?? 1) > 1 && format !== 'directory') {
    throw new UsageError(`--jobs ${o.jobs} needs --format directory (pg_dump writes in parallel only to a directory)`, {
      hint: 'Add --format directory, or drop --jobs.',
    });
  }
  checkRetentionRule(o.retention ?? {});
  if (o.verify !== undefined && !['read', 'restore'].includes(o.verify))
    throw new UsageError(`--verify must be read or restore, got '${o.verify}'`);
  if (o.metricsFile !== undefined && !existsSync(dirname(resolve(o.metricsFile)))) {
    throw new UsageError(`the folder of --metrics-file ${o.metricsFile} does not exist`, {
      hint: "Create it, or point --metrics-file at node_exporter's textfile folder.",
    });
  }
}

/** Takes one backup of the target database; see the file comment for the guarantees. */
export async function backup(options: BackupOptions): Promise<BackupResult> {
  const plan = planBackup(options);
  const run: BackupRun = { taken: false, started: performance.now(), leftoversRemoved: [] };
  let lock: FileLock | undefined;
  try {
    const { manifest, verifyDurationMs } = await withPool(
      options.target,
      { max: 1, log: options.log },
      async (sql, conn) => {
        // The server and the client are checked before anything is created (no folder, no lock):
        // a pg_dump older than the server refuses to dump it, so a wrong one is named up front.
        const client = await checkClient(sql, plan, options);
        lock = await lockBackups(plan.folder, plan.database);
        run.leftoversRemoved = removeLeftovers(plan.folder);
        const dumped = await dumpInOneSnapshot(sql, conn, client, plan, options, run);
        return seal(dumped, conn, plan, options);
      },
    );
    const path = publish(plan.folder, run, manifest.id);
    const retention = afterBackup(options, plan, manifest.id, path, run.started);
    const durationMs = Math.round(performance.now() - run.started);
    return {
      id: manifest.id,
      database: plan.database,
      path,
      manifest,
      retention,
      leftoversRemoved: run.leftoversRemoved,
      durationMs,
      verifyDurationMs,
    };
  } catch (error) {
    if (run.partial) rmSync(run.partial, { recursive: true, force: true });
    if (!run.taken && !(error instanceof ConflictError)) {
      try {
        writeMetrics(options, plan.database, plan.dir, false, run.started);
      } catch {
        // the backup's own error is the one to report
      }
    }
    throw error;
  } finally {
    await lock?.release();
  }
}

/** The server's version and a pg_dump at least as new (else a UsageError naming both, exit 2). */
async function checkClient(sql: Db, plan: BackupPlan, options: BackupOptions): Promise<Client> {
  const identity = await serverIdentity(sql);
  const serverMajor = Math.floor(identity.versionNum / 10000);
  const pgDump = await findPgClient('pg_dump', serverMajor, options.env);
  return {
    serverVersion: identity.version,
    serverMajor,
    pgDump,
    compressArgs: compressionArgs(plan.compression, pgDump.major),
  };
}

/** Checks the flags and works out where the backup goes; nothing is touched yet. */
function planBackup(options: BackupOptions): BackupPlan {
  checkOptions(options);
  const compression = parseCompression(options.compress);
  const label = checkLabel(options.label);
  const dir = resolveBackupDir(options.dir, options.env);
  const database = options.target.database;
  return {
    format: options.format ?? 'custom',
    compression,
    label,
    now: options.now ?? (() => new Date()),
    dir,
    database,
    folder: databaseFolder(dir, database),
  };
}

/**
 * Checksums, modes and fsync of the partial folder, its manifest, and the verification asked
 * for (and how long it took: the manifest's duration is the dump's).
 */
async function seal(
  d: Dumped,
  conn: ServerConnection,
  plan: BackupPlan,
  options: BackupOptions,
): Promise<{ manifest: BackupManifest; verifyDurationMs: number | null }> {
  let files: ManifestFile[];
  if (d.streamed) {
    // Hashed as it was written (and fsynced, 0600): no second read of the archive.
    files = [{ path: d.dump, ...d.streamed }];
  } else {
    restrictModes(d.partial);
    options.onProgress?.({
      phase: 'checksums',
      unit: 'bytes',
      tablesDone: d.tablesDone,
      tablesTotal: d.tables.length,
      bytes: bytesUnder(join(d.partial, d.dump)),
    });
    files = await checksumFiles(d.partial);
    fsyncTree(d.partial);
  }
  fsyncDir(d.partial);
  const finishedAt = plan.now();
  const manifest: BackupManifest = {
    id: d.id,
    database: plan.database,
    serverVersion: d.serverVersion,
    pgDumpVersion: d.pgDumpVersion,
    pgstoreVersion: pgstoreVersion(),
    format: plan.format,
    compression: describeCompression(plan.compression, plan.format),
    dump: d.dump,
    label: plan.label ?? null,
    startedAt: d.startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - d.startedAt.getTime(),
    sizeBytes: files.reduce((sum, f) => sum + f.bytes, 0),
    files,
    migrationVersion: d.migrationVersion,
    tables: d.tables,
    verified: null,
  };
  writeManifest(d.partial, manifest);
  if (!options.verify) return { manifest, verifyDurationMs: null };
  const verifyStarted = performance.now();
  manifest.verified = await verifyBackupFolder(d.partial, manifest, options.verify, {
    env: options.env,
    conn,
    serverMajor: d.serverMajor,
    jobs: options.jobs,
    onProgress: options.onProgress,
  });
  writeManifest(d.partial, manifest);
  return { manifest, verifyDurationMs: Math.round(performance.now() - verifyStarted) };
}

/** Renames the complete partial folder into place: from here on the backup exists. */
function publish(folder: string, run: BackupRun, id: string): string {
  const path = join(folder, id);
  renameSync(run.partial!, path);
  run.partial = undefined;
  run.taken = true;
  fsyncDir(folder);
  return path;
}

/** Retention (only after a successful backup) and the metrics file; their failures name the backup that was taken. */
function afterBackup(
  options: BackupOptions,
  plan: BackupPlan,
  id: string,
  path: string,
  started: number,
): PruneResult | null {
  let retention: PruneResult | null = null;
  if (options.retention && hasRetentionRule(options.retention)) {
    try {
      retention = applyRetention(plan.dir, plan.database, options.retention, plan.now(), [id], false);
    } catch (error) {
      writeMetrics(options, plan.database, plan.dir, true, started);
      throw new PgstoreError(`backup ${id} was taken, but retention failed: ${(error as Error).message}`, {
        cause: error,
        hint: `The new backup is complete in ${path}.`,
      });
    }
  }
  try {
    writeMetrics(options, plan.database, plan.dir, true, started);
  } catch (error) {
    throw new PgstoreError(
      `backup ${id} was taken, but the metrics file could not be written: ${(error as Error).message}`,
      { cause: error, hint: `The backup is complete in ${path}.` },
    );
  }
  return retention;
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
