/**
 * The backups of a database: listing them (a folder whose name starts with a dot is work in
 * progress or being deleted, and never listed), finding one by ID, and retention. A backup
 * folder whose manifest is unreadable, points outside the folder, or whose files are missing
 * or of the wrong size is listed as damaged, never skipped without a word. Deleting renames
 * the folder aside first, so a half-deleted backup is never listed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { fsyncDir } from '../../util/atomic-file.js';
import { type BackupManifest, CorruptBackupError, quickFileProblems, readManifest } from './manifest.js';
import { checkBackupFolderSafe, databaseFolder } from './paths.js';

export interface BackupEntry {
  id: string;
  database: string;
  path: string;
  manifest: BackupManifest;
}

/** A backup folder that cannot be trusted: listed, never restored from, never deleted by retention. */
export interface DamagedBackup {
  id: string;
  database: string;
  path: string;
  status: 'damaged';
  problem: string;
  /** When it was started, from its ID (else the folder's mtime): where it sorts among the others. */
  startedAt: string;
}

/** "20250102T020000.123Z-x" → "2025-01-02T02:00:00.123Z" (undefined when the ID is not a stamp). */
function stampTime(id: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : undefined;
}

/** Backups of `database` under `dir`, newest first: the intact ones and the damaged ones. */
export function scanBackups(dir: string, database: string): { backups: BackupEntry[]; damaged: DamagedBackup[] } {
  const folder = databaseFolder(dir, database);
  const backups: BackupEntry[] = [];
  const damaged: DamagedBackup[] = [];
  if (!existsSync(folder)) return { backups, damaged };
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
    const path = join(folder, entry.name);
    const fail = (problem: string) => {
      const mtime = lstatSync(path, { throwIfNoEntry: false })?.mtime ?? new Date(0);
      damaged.push({
        id: entry.name,
        database,
        path,
        status: 'damaged',
        problem,
        startedAt: stampTime(entry.name) ?? mtime.toISOString(),
      });
    };
    if (entry.isSymbolicLink()) {
      fail('it is a symbolic link, not a backup folder (a backup is never followed elsewhere)');
      continue;
    }
    try {
      const manifest = readManifest(path);
      const problems = quickFileProblems(path, manifest);
      if (problems.length) fail(problems.join('; '));
      else backups.push({ id: entry.name, database, path, manifest });
    } catch (error) {
      fail((error as Error).message);
    }
  }
  backups.sort((a, b) => b.manifest.startedAt.localeCompare(a.manifest.startedAt) || b.id.localeCompare(a.id));
  damaged.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
  return { backups, damaged };
}

/** Intact backups of `database`, newest first (damaged ones left out: see scanBackups). */
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

export interface FindOptions {
  /** `latest` passes over damaged backups newer than the newest intact one (else it refuses, naming them). */
  skipDamaged?: boolean | undefined;
}

/**
 * A backup by reference: `latest`, an ID (`20250102T020000.123Z-nightly`) of `database`, or
 * `<database>/<ID>`. Throws a UsageError naming what exists when there is no such backup, and
 * a CorruptBackupError (exit 1) when it is damaged, or when `latest` would have to pass over a
 * damaged backup without `skipDamaged`. `skipped`: the damaged backups passed over.
 */
export function findBackup(
  dir: string,
  database: string,
  ref: string,
  options: FindOptions = {},
): BackupEntry & { skipped: DamagedBackup[] } {
  const slash = ref.indexOf('/');
  const db = slash > 0 ? ref.slice(0, slash) : database;
  const id = slash > 0 ? ref.slice(slash + 1) : ref;
  checkBackupFolderSafe(databaseFolder(dir, db));
  const { backups, damaged } = scanBackups(dir, db);
  if (id === 'latest') {
    const newest = backups[0];
    const newer = damaged.filter((d) => !newest || d.startedAt >= newest.manifest.startedAt);
    if (newer.length && !options.skipDamaged) {
      const first = newer[0]!;
      throw new CorruptBackupError(`the newest backup of ${db}, ${first.id}, is damaged: ${first.problem}`, {
        hint: `${newer.length > 1 ? `${newer.length} damaged backups are newer than the newest intact one. ` : ''}Look at ${first.path} (then \`pgstore backup delete ${first.id}\`), or pass --skip-damaged to use the newest intact backup${newest ? ` (${newest.id})` : ' (there is none)'}.`,
      });
    }
    if (newest) return { ...newest, skipped: newer };
  } else {
    const found = backups.find((b) => b.id === id);
    if (found) return { ...found, skipped: [] };
    const bad = damaged.find((d) => d.id === id);
    if (bad) {
      throw new CorruptBackupError(`backup ${db}/${id} is damaged: ${bad.problem}`, {
        hint: 'Do not restore from it. Use another backup (`pgstore backup list`); `pgstore backup delete` removes it.',
      });
    }
  }
  const known = backups
    .slice(0, 3)
    .map((b) => b.id)
    .join(', ');
  throw new UsageError(
    id === 'latest' ? `there is no backup of ${db} in ${dir}` : `no backup '${id}' of ${db} in ${dir}`,
    {
      hint: known
        ? `Recent backups: ${known} (see \`pgstore backup list\`).`
        : 'Take one with `pgstore backup`, or pass --dir / PGSTORE_BACKUP_DIR.',
    },
  );
}

/** A backup folder by ID, intact or damaged (for deleting one); throws a UsageError when there is none. */
export function findBackupFolder(
  dir: string,
  database: string,
  ref: string,
): { id: string; database: string; path: string } {
  const slash = ref.indexOf('/');
  const db = slash > 0 ? ref.slice(0, slash) : database;
  const id = slash > 0 ? ref.slice(slash + 1) : ref;
  if (id === 'latest') return findBackup(dir, database, ref);
  const { backups, damaged } = scanBackups(dir, db);
  const found = backups.find((b) => b.id === id) ?? damaged.find((d) => d.id === id);
  if (!found) {
    throw new UsageError(`no backup '${id}' of ${db} in ${dir}`, { hint: 'See `pgstore backup list`.' });
  }
  return { id: found.id, database: db, path: found.path };
}

/** Removes a backup folder: renamed aside (atomic: it stops being listed), then deleted. */
export function removeBackup(entry: { path: string; id: string }): void {
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
