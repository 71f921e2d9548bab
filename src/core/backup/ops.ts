/**
 * `pgstore backup list | verify | prune | delete`, and the one-backup-at-a-time lock that
 * backup, prune and delete share (a file in the database's backup folder).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serverFor, withAdminSql } from '../../db/pool.js';
import { ConflictError, UsageError } from '../../errors.js';
import { serverIdentity } from '../../store/admin/index.js';
import { acquireFileLock, type FileLock } from '../../util/file-lock.js';
import {
  type BackupEntry,
  type DamagedBackup,
  findBackup,
  findBackupFolder,
  removeBackup,
  scanBackups,
} from './catalog.js';
import { planRetention, type RetentionRule } from './retention.js';
import { type BackupManifest, strongerVerification, writeManifest } from './manifest.js';
import { databaseFolder, ensureBackupFolder, resolveBackupDir } from './paths.js';
import { verifyBackupFolder, type VerifyMethod } from './verify.js';
import type { ConnectionTarget } from '../../db/config.js';
import type { LocalOptions } from '../options.js';
import type { ProgressSink } from '../../types/progress.js';

export interface BackupDirOptions extends LocalOptions {
  /** --dir (else PGSTORE_BACKUP_DIR, else the default). */
  dir?: string | undefined;
  /** Whose backups (the caller's --database, else the connection's database). */
  database: string;
}

/** Takes the lock of a database's backup folder, or explains who holds it (exit 3). */
export async function lockBackups(folder: string, database: string): Promise<FileLock> {
  ensureBackupFolder(folder);
  return acquireFileLock(join(folder, '.lock'), {
    purpose: `backup of ${database}`,
    onHeld: (holder) =>
      new ConflictError(
        `another backup of ${database} is running, pid ${holder.pid} since ${holder.since}${holder.host ? ` on ${holder.host}` : ''}`,
        {
          hint: `Wait for it to finish. If that process is gone, its lock (${join(folder, '.lock')}) is taken over automatically on this host.`,
        },
      ),
  });
}

function where(options: BackupDirOptions): { dir: string; database: string } {
  return { dir: resolveBackupDir(options.dir, options.env), database: options.database };
}

export interface BackupListing {
  dir: string;
  database: string;
  backups: BackupEntry[];
  /** Backup folders that cannot be trusted (shown in every listing, never restored from). */
  damaged: DamagedBackup[];
}

/** The backups of the database, intact and damaged, newest first (no connection needed). */
export function listDatabaseBackups(options: BackupDirOptions): BackupListing {
  const { dir, database } = where(options);
  return { dir, database, ...scanBackups(dir, database) };
}

export interface VerifyBackupOptions extends BackupDirOptions {
  /** The server a `restore` verification restores on (its scratch database); unused by `read`. */
  target?: ConnectionTarget | undefined;
  id: string;
  method?: VerifyMethod;
  jobs?: number;
  onProgress?: ProgressSink;
}

/** Verifies one backup (read by default, or restore) and records the success in its manifest. */
export async function verifyBackup(
  options: VerifyBackupOptions,
): Promise<{ backup: BackupEntry; manifest: BackupManifest }> {
  const { dir, database } = where(options);
  const entry = findBackup(dir, database, options.id);
  const method = options.method ?? 'read';
  let conn: Awaited<ReturnType<typeof serverFor>> | undefined;
  let serverMajor: number | undefined;
  if (method === 'restore') {
    if (!options.target) throw new Error('verifyBackup: a restore verification needs options.target');
    conn = await serverFor(options.target, { log: options.log });
    serverMajor = Math.floor((await withAdminSql(conn, (sql) => serverIdentity(sql))).versionNum / 10000);
  }
  const verified = await verifyBackupFolder(entry.path, entry.manifest, method, {
    env: options.env,
    conn,
    serverMajor,
    jobs: options.jobs,
    onProgress: options.onProgress,
  });
  const manifest = { ...entry.manifest, verified: strongerVerification(entry.manifest.verified, verified) };
  writeManifest(entry.path, manifest);
  return { backup: entry, manifest };
}

export interface PruneOptions extends BackupDirOptions, RetentionRule {
  dryRun?: boolean;
  now?: Date;
}

export interface PruneResult {
  dir: string;
  database: string;
  kept: Array<{ id: string; reasons: string[] }>;
  removed: string[];
  /** Damaged backups: never counted as kept nor deleted by retention; look, then `backup delete`. */
  damaged: Array<{ id: string; problem: string }>;
  dryRun: boolean;
}

/** Applies retention to the database's backups (under the backup lock). */
export async function pruneBackups(options: PruneOptions): Promise<PruneResult> {
  const { dir, database } = where(options);
  const folder = databaseFolder(dir, database);
  if (!existsSync(folder))
    throw new UsageError(`there are no backups of ${database} in ${dir}`, {
      hint: 'Check --dir / PGSTORE_BACKUP_DIR.',
    });
  const lock = options.dryRun ? undefined : await lockBackups(folder, database);
  try {
    return applyRetention(dir, database, options, options.now ?? new Date(), [], !!options.dryRun);
  } finally {
    await lock?.release();
  }
}

/** Plans and (unless dryRun) removes; the caller holds the lock. */
export function applyRetention(
  dir: string,
  database: string,
  rule: RetentionRule,
  now: Date,
  protect: string[],
  dryRun: boolean,
): PruneResult {
  const { backups, damaged } = scanBackups(dir, database);
  const plan = planRetention(backups, rule, now, protect);
  if (!dryRun) for (const entry of plan.remove) removeBackup(entry);
  return {
    dir,
    database,
    kept: plan.keep.map((k) => ({ id: k.id, reasons: k.reasons })),
    removed: plan.remove.map((r) => r.id),
    damaged: damaged.map((d) => ({ id: d.id, problem: d.problem })),
    dryRun,
  };
}

/** Deletes one backup (under the backup lock). */
export async function deleteBackup(
  options: BackupDirOptions & { id: string },
): Promise<{ id: string; database: string; path: string }> {
  const { dir, database } = where(options);
  const entry = findBackupFolder(dir, database, options.id);
  const lock = await lockBackups(databaseFolder(dir, entry.database), entry.database);
  try {
    removeBackup(entry);
  } finally {
    await lock.release();
  }
  return { id: entry.id, database: entry.database, path: entry.path };
}
