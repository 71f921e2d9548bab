/**
 * The files of a backup folder being written: their size so far (progress), their modes
 * (0600/0700, through O_NOFOLLOW descriptors) and their fsync.
 */
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PgstoreError } from '../../errors.js';
import { fsyncDir } from '../../util/atomic-file.js';

/** Bytes written so far under a file or folder (0 when it does not exist yet). */
export function bytesUnder(path: string): number {
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
export function restrictModes(path: string): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let isDir: boolean;
  try {
    const info = fstatSync(fd);
    isDir = info.isDirectory();
    if (!isDir && !info.isFile())
      throw new PgstoreError(`${path} is neither a file nor a folder; pg_dump does not write such things`);
    fchmodSync(fd, isDir ? 0o700 : 0o600);
  } finally {
    closeSync(fd);
  }
  if (isDir) for (const name of readdirSync(path)) restrictModes(join(path, name));
}

/** fsyncs every file and folder under `path` (pg_dump syncs its own output; this covers the rest). */
export function fsyncTree(path: string): void {
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
