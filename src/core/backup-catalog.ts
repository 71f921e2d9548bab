/**
 * The backups of a database: listing them (only complete ones: a folder whose name starts with
 * a dot is work in progress or being deleted, and never listed), finding one by ID, and
 * retention. Deleting renames the folder aside first, so a half-deleted backup is never listed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { fsyncDir } from '../util/atomic-file.js';
import { type BackupManifest, readManifest } from './backup-manifest.js';
import { databaseFolder } from './backup-paths.js';

export interface BackupEntry {
  id: string;
  database: string;
  path: string;
  manifest: BackupManifest;
}

export interface UnreadableBackup {
  path: string;
  problem: string;
}

/** Complete backups of `database` under `dir`, newest first, and folders that are not backups. */
export function scanBackups(dir: string, database: string): { backups: BackupEntry[]; unreadable: UnreadableBackup[] } {
  const folder = databaseFolder(dir, database);
  const backups: BackupEntry[] = [];
  const unreadable: UnreadableBackup[] = [];
  if (!existsSync(folder)) return { backups, unreadable };
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    try {
      const manifest = readManifest(path);
      backups.push({ id: entry.name, database, path, manifest });
    } catch (error) {
      unreadable.push({ path, problem: (error as Error).message });
    }
  }
  backups.sort((a, b) => b.manifest.startedAt.localeCompare(a.manifest.startedAt) || b.id.localeCompare(a.id));
  return { backups, unreadable };
}

/** Complete backups of `database`, newest first. */
export function listBackups(dir: string, database: string): BackupEntry[] {
  return scanBackups(dir, database).backups;
}

/** Every database that has a folder under `dir`. */
export function backedUpDatabases(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/**
 * A backup by reference: `latest`, an ID (`20250102T020000.123Z-nightly`) of `database`, or
 * `<database>/<ID>`. Throws a UsageError naming what exists when there is no such backup.
 */
export function findBackup(dir: string, database: string, ref: string): BackupEntry {
  const slash = ref.indexOf('/');
  const db = slash > 0 ? ref.slice(0, slash) : database;
  const id = slash > 0 ? ref.slice(slash + 1) : ref;
  const backups = listBackups(dir, db);
  const found = id === 'latest' ? backups[0] : backups.find((b) => b.id === id);
  if (!found) {
    const known = backups.slice(0, 3).map((b) => b.id).join(', ');
    throw new UsageError(
      id === 'latest' ? `there is no backup of ${db} in ${dir}` : `no backup '${id}' of ${db} in ${dir}`,
      { hint: known ? `Recent backups: ${known} (see \`pgstore backup list\`).` : 'Take one with `pgstore backup`, or pass --dir / PGSTORE_BACKUP_DIR.' },
    );
  }
  return found;
}

export interface RetentionRule {
  /** Keep the newest N backups. */
  keepLast?: number | undefined;
  /** Keep backups started within the last D days. */
  keepDays?: number | undefined;
}

export interface RetentionPlan {
  keep: Array<BackupEntry & { reasons: string[] }>;
  remove: BackupEntry[];
}

/**
 * Which backups a rule keeps: the newest `keepLast`, those younger than `keepDays` (a backup
 * kept by either rule stays), and always the newest verified backup, so retention never leaves
 * nothing proven restorable. `backups` is newest first.
 */
export function planRetention(backups: BackupEntry[], rule: RetentionRule, now: Date, protect: string[] = []): RetentionPlan {
  if (rule.keepLast === undefined && rule.keepDays === undefined) {
    throw new UsageError('retention needs --keep-last, --keep-days or both', { hint: 'For example --keep-days 7, or --keep-last 10.' });
  }
  const newestVerified = backups.find((b) => b.manifest.verified !== null);
  const cutoff = rule.keepDays === undefined ? undefined : now.getTime() - rule.keepDays * 86_400_000;
  const keep: RetentionPlan['keep'] = [];
  const remove: BackupEntry[] = [];
  backups.forEach((backup, index) => {
    const reasons: string[] = [];
    if (rule.keepLast !== undefined && index < rule.keepLast) reasons.push(`among the newest ${rule.keepLast}`);
    if (cutoff !== undefined && Date.parse(backup.manifest.startedAt) >= cutoff) reasons.push(`younger than ${rule.keepDays} day(s)`);
    if (backup === newestVerified) reasons.push('newest verified backup');
    if (protect.includes(backup.id)) reasons.push('just taken');
    if (reasons.length) keep.push({ ...backup, reasons });
    else remove.push(backup);
  });
  return { keep, remove };
}

/** Removes a backup folder: renamed aside (atomic: it stops being listed), then deleted. */
export function removeBackup(entry: Pick<BackupEntry, 'path' | 'id'>): void {
  const parent = join(entry.path, '..');
  const aside = join(parent, `.deleting-${entry.id}-${randomBytes(4).toString('hex')}`);
  renameSync(entry.path, aside);
  fsyncDir(parent);
  rmSync(aside, { recursive: true, force: true });
}

/** Removes work left by runs that died (partial backups, interrupted deletions). Call under the lock. */
export function removeLeftovers(folder: string): string[] {
  if (!existsSync(folder)) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.isDirectory() && /^\.(partial|deleting|verify)-/.test(entry.name)) {
      rmSync(join(folder, entry.name), { recursive: true, force: true });
      removed.push(entry.name);
    }
  }
  return removed;
}
