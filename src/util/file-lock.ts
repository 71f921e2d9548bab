/**
 * An exclusive lock held through a file created with O_EXCL. The file records who holds it
 * (pid, host, since); a lock whose process has died is taken over. Used for the embedded
 * server's first start and for one-backup-at-a-time.
 */
import { hostname } from 'node:os';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
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

/** True when a process with this pid exists (EPERM means it exists but is not ours). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock at `path`, waiting up to waitMs for a live holder, taking over a dead one. */
export async function acquireFileLock(path: string, options: LockOptions): Promise<FileLock> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), purpose: options.purpose };
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      return {
        path,
        release: async () => {
          const holder = await readHolder(path);
          if (holder?.pid === process.pid) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    if (!holder) {
      // Being written right now, or left half-written long ago by a crash.
      const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 5000) await rm(path, { force: true });
      else await sleep(50);
      continue;
    }
    if (holder.host === me.host && !processAlive(holder.pid)) {
      await takeOverStale(path, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      throw options.onHeld?.(holder) ??
        new ConflictError(`${options.purpose} is locked by pid ${holder.pid} since ${holder.since}`, {
          hint: `Wait for it to finish; if that process is gone, remove ${path}.`,
        });
    }
    await sleep(100);
  }
}

/**
 * Removes a lock left by a dead process. The file is first moved aside atomically, so that
 * when two processes race to take over, neither deletes the fresh lock the other made.
 */
async function takeOverStale(path: string, stale: LockHolder): Promise<void> {
  const aside = `${path}.stale-${process.pid}`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readHolder(aside);
  if (moved && (moved.pid !== stale.pid || moved.since !== stale.since)) {
    // We moved a fresh lock another process had just taken: give it back.
    await rename(aside, path).catch(() => undefined);
    return;
  }
  await rm(aside, { force: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
