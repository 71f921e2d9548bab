/**
 * Files that appear whole or not at all: written under a temporary name, fsynced, renamed.
 * Modes are set on the open file (fchmod), never by path: a path can be swapped for a symlink
 * between two calls, and chmod follows it (as root, onto any file of the attacker's choosing).
 */
import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteOptions {
  /** Set `mode` exactly, whatever the umask (default: the umask applies, as for any new file). */
  exactMode?: boolean;
}

/**
 * Creates a new file for writing: O_CREAT|O_EXCL (fails if anything, a symlink included, is
 * already there) and O_NOFOLLOW. With `exactMode`, the mode is set on the open descriptor.
 */
export function createNewFile(path: string, mode: number, exactMode = false): number {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  if (exactMode) {
    try {
      fchmodSync(fd, mode);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }
  return fd;
}

/** Writes `text` to `path` through a temporary file, fsynced, then renamed into place. */
export function writeFileAtomic(path: string, text: string, mode = 0o644, options: AtomicWriteOptions = {}): void {
  // A fresh, unpredictable name opened exclusively: never follows a planted symlink.
  const temp = temporaryNameFor(path);
  const fd = createNewFile(temp, mode, options.exactMode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameIntoPlace(temp, path);
}

/**
 * Like writeFileAtomic, for long text given in pages: each page written asynchronously (the
 * event loop runs between them). Returns the bytes written.
 */
export async function writeFileAtomicPages(
  path: string,
  pages: Iterable<string> | AsyncIterable<string>,
  mode = 0o644,
): Promise<number> {
  const temp = temporaryNameFor(path);
  const file = await open(temp, 'wx', mode);
  let bytes = 0;
  try {
    for await (const page of pages) bytes += (await file.write(page)).bytesWritten;
    await file.sync();
  } catch (error) {
    await file.close();
    rmSync(temp, { force: true });
    throw error;
  }
  await file.close();
  renameIntoPlace(temp, path);
  return bytes;
}

/** A fresh, unpredictable name beside `path`, for a file opened exclusively. */
function temporaryNameFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Renames the finished `temp` onto `path` durably; on failure `temp` is removed. */
function renameIntoPlace(temp: string, path: string): void {
  try {
    // rename replaces whatever is at `path` (a symlink included) without following it.
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
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
