/**
 * An exclusive lock held through a file created with O_EXCL. The file records who holds it
 * (pid, host, since); a lock whose process has died is taken over. Used for the embedded
 * server's first start and for one-backup-at-a-time.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { type FileHandle, link, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { ConflictError } from '../errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  purpose?: string;
}

export interface FileLock {
  path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** What the lock protects, for messages ("first start of the embedded server"). */
  purpose: string;
  /** How long to keep trying while a live process holds it; 0 fails at once. */
  waitMs?: number;
  /** Builds the error when the lock stays held. */
  onHeld?: (holder: LockHolder) => Error;
}

/**
 * True when a process with this pid runs (EPERM means it exists but is not ours). A zombie,
 * dead but not yet reaped by its parent, does not count.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    // pid 0 or a negative pid would make kill(pid, 0) test a whole process group: never "dead".
    return Number.isInteger(parsed.pid) && parsed.pid > 0 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock at `path`, waiting up to waitMs for a live holder, taking over a dead one. */
export async function acquireFileLock(path: string, options: LockOptions): Promise<FileLock> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  const host = hostname();
  for (;;) {
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (handle) {
      const me: LockHolder = { pid: process.pid, host, since: new Date().toISOString(), purpose: options.purpose };
      // The nonce tells this lock from a later one the same process takes at the same instant.
      const content = JSON.stringify({ ...me, nonce: randomUUID() });
      try {
        await handle.writeFile(content);
      } catch (error) {
        await rm(path, { force: true });
        throw error;
      } finally {
        await handle.close();
      }
      return {
        path,
        release: async () => {
          // Only our own lock: never one taken after ours was released.
          const now = await readFile(path, 'utf8').catch(() => undefined);
          if (now === content) await rm(path, { force: true });
        },
      };
    }
    const holder = await readHolder(path);
    if (!holder) {
      // Being written right now, or left half-written long ago by a crash.
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > 5000) await removeAbandoned(path);
      else await sleep(50);
      continue;
    }
    if (holder.host === host && !processAlive(holder.pid)) {
      await takeOverStale(path, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      throw (
        options.onHeld?.(holder) ??
        new ConflictError(`${options.purpose} is locked by pid ${holder.pid} since ${holder.since}`, {
          hint: `Wait for it to finish; if that process is gone, remove ${path}.`,
        })
      );
    }
    await sleep(100);
  }
}

/**
 * Removes a lock left by a dead process. The file is first moved aside atomically, so that
 * when two processes race to take over, neither deletes the fresh lock the other made.
 */
async function takeOverStale(path: string, stale: LockHolder): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readHolder(aside);
  if (!moved || moved.pid !== stale.pid || moved.since !== stale.since) {
    // We moved a fresh lock another process had just taken (maybe not even written yet):
    // give it back, without clobbering a lock made in the meantime.
    await giveBack(aside, path);
    return;
  }
  await rm(aside, { force: true });
}

/** Removes a lock file left empty or unreadable (a crash while writing it), the same careful way. */
async function removeAbandoned(path: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${randomUUID().slice(0, 8)}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const info = await stat(aside).catch(() => undefined);
  if (!info || (await readHolder(aside)) || Date.now() - info.mtimeMs <= 5000) {
    await giveBack(aside, path); // it was a fresh lock after all
    return;
  }
  await rm(aside, { force: true });
}

async function giveBack(aside: string, path: string): Promise<void> {
  try {
    await link(aside, path); // fails if a new lock exists: never overwrite one
  } catch {
    // lost: the other process will find its lock gone when it releases
  }
  await unlink(aside).catch(() => undefined);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
