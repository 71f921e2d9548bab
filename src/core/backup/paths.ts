/**
 * Where backups live and what they are called:
 *   <dir>/<database>/<UTC timestamp>[-label]/   (the dump and manifest.json)
 * The directory is --dir, else PGSTORE_BACKUP_DIR, else `<pgstore home>/backups` (the same
 * home the embedded server uses: $PGSTORE_HOME, else ${XDG_DATA_HOME:-~/.local/share}/pgstore,
 * as root /var/lib/pgstore), so that cron (cwd $HOME), systemd (cwd /) and an operator's shell
 * all find the same backups without a flag.
 */
import { closeSync, constants, existsSync, fchmodSync, fstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { makeDirs } from '../../util/make-dirs.js';
import { dirname, join } from 'node:path';
import { defaultBackupDir, resolveBackupDir } from '../../db/home.js';
import { UsageError } from '../../errors.js';
import type { Compression, DumpFormat } from '../../tools/pg-dump.js';

export { defaultBackupDir, resolveBackupDir };

/** The folder holding every backup of one database. */
export function databaseFolder(dir: string, database: string): string {
  if (database === '' || database === '.' || database === '..' || /[/\\\0]/.test(database)) {
    throw new UsageError(`database name '${database}' cannot be used as a backup folder name`, {
      hint: 'Back it up with --dir pointing at a folder of its own.',
    });
  }
  return join(dir, database);
}

/**
 * Refuses a database's backup folder that others could change: not ours (owned by another
 * user) or writable by group or others. Anyone who can write there can swap the backup that
 * `restore latest` would use, so pgstore never adopts such a folder (nor tightens one it did not
 * create: it cannot know what was written there meanwhile). A folder that does not exist yet is fine.
 */
export function checkBackupFolderSafe(folder: string): void {
  const info = statSync(folder, { throwIfNoEntry: false });
  if (!info) return;
  if (!info.isDirectory())
    throw new UsageError(`backup folder ${folder} is not a folder`, { hint: 'Remove it, or choose another --dir.' });
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new UsageError(
      `backup folder ${folder} belongs to uid ${info.uid}, not to this user (uid ${uid}): its owner could swap the backups`,
      {
        hint: `Run pgstore as its owner, choose another --dir, or, once you have checked its backups: chown -R ${uid} '${folder}'`,
      },
    );
  }
  if ((info.mode & 0o022) !== 0) {
    throw new UsageError(
      `backup folder ${folder} is writable by ${info.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}): anyone who can write there can swap the backups`,
      {
        hint: `Check its backups, then: chmod 700 '${folder}'`,
      },
    );
  }
}

/**
 * The database's backup folder, created 0700 (exactly, whatever the umask) when missing, and
 * checked with checkBackupFolderSafe when it already existed.
 */
export function ensureBackupFolder(folder: string): void {
  if (!existsSync(folder)) {
    makeDirs(dirname(folder), 0o700);
    let created = true;
    try {
      mkdirSync(folder, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      created = false;
    }
    if (created) {
      // Ours for certain: tighten it through a descriptor (never chmod by path).
      const fd = openSync(folder, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        if (fstatSync(fd).uid === process.getuid?.()) fchmodSync(fd, 0o700);
      } finally {
        closeSync(fd);
      }
    }
  }
  checkBackupFolderSafe(folder);
}

/** "2025-01-02T02:00:00.123Z" → "20250102T020000.123Z": sortable, and safe in a file name. */
export function backupStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '');
}

/** Checks a --label: letters, digits, dot, dash and underscore, at most 64, not starting with a dot. */
export function checkLabel(label: string | undefined): string | undefined {
  if (label === undefined) return undefined;
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/.test(label)) {
    throw new UsageError(`--label '${label}' is not allowed`, {
      hint: 'Use up to 64 letters, digits, dots, dashes or underscores (not starting with a dot).',
    });
  }
  return label;
}

/** The name of a backup's folder, which is also its ID within its database's folder. */
export function backupId(stamp: string, label: string | undefined): string {
  return label ? `${stamp}-${label}` : stamp;
}

/** Parses `--compress METHOD[:LEVEL]` (gzip, lz4, zstd or none; a bare number means gzip). */
export function parseCompression(text: string | undefined): Compression | undefined {
  if (text === undefined) return undefined;
  const match = /^(gzip|lz4|zstd|none|\d+)(?::(\d+))?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`--compress '${text}' is not METHOD[:LEVEL]`, {
      hint: 'For example gzip, gzip:1, zstd:3 (pg_dump 16+), or none.',
    });
  }
  if (/^\d+$/.test(match[1]!)) {
    const level = Number(match[1]);
    return level === 0 ? { method: 'none' } : checkLevel({ method: 'gzip', level });
  }
  const method = match[1] as Compression['method'];
  if (method === 'none' && match[2] !== undefined)
    throw new UsageError('--compress none takes no level', { hint: 'Write --compress none.' });
  return checkLevel({ method, level: match[2] === undefined ? undefined : Number(match[2]) });
}

function checkLevel(c: Compression): Compression {
  const max = c.method === 'zstd' ? 22 : c.method === 'lz4' ? 12 : 9;
  if (c.level !== undefined && (c.level < 1 || c.level > max)) {
    throw new UsageError(`--compress ${c.method} level must be 1-${max}, got ${c.level}`, {
      hint: 'Lower levels are faster, higher ones smaller.',
    });
  }
  return c;
}

/** How a compression setting is written in the manifest ("gzip:1", "none", "default"). */
export function describeCompression(c: Compression | undefined, format: DumpFormat): string {
  if (!c) return format === 'plain' ? 'none' : 'gzip';
  return c.level === undefined ? c.method : `${c.method}:${c.level}`;
}

/** The dump's name inside a backup folder. */
export function dumpName(format: DumpFormat, compression: Compression | undefined): string {
  if (format === 'custom') return 'backup.dump';
  if (format === 'directory') return 'backup.dir';
  if (!compression || compression.method === 'none') return 'backup.sql';
  return `backup.sql.${{ gzip: 'gz', lz4: 'lz4', zstd: 'zst' }[compression.method]}`;
}
