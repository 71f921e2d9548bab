/**
 * Files that appear whole or not at all: written under a temporary name, fsynced, renamed.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes `text` to `path` through a temporary file, fsynced, then renamed into place. */
export function writeFileAtomic(path: string, text: string, mode = 0o644): void {
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  fsyncDir(dirname(path));
}

/** Makes a rename in `dir` durable (where the platform allows fsync on a folder). */
export function fsyncDir(dir: string): void {
  try {
    const dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    // directories cannot be fsynced everywhere; the rename is still atomic
  }
}

