/** The O_EXCL file lock: exclusion, waiting, taking over dead holders, half-written files. */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ExitCode } from '../../src/errors.js';
import { acquireFileLock, processAlive } from '../../src/util/file-lock.js';

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgstore-lock-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lockPath = () => join(dir, `lock-${++n}`);
const holderAt = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as { pid: number; host: string; since: string; purpose: string };

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  expect(child.status).toBe(0);
  expect(processAlive(child.pid!)).toBe(false);
  return child.pid!;
}

function writeHolder(path: string, holder: object, ageMs = 0): void {
  writeFileSync(path, JSON.stringify(holder));
  if (ageMs) {
    const when = (Date.now() - ageMs) / 1000;
    utimesSync(path, when, when);
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('acquireFileLock', () => {
  it('creates a 0600 file naming the holder; release removes it', async () => {
    const path = lockPath();
    const before = Date.now();
    const lock = await acquireFileLock(path, { purpose: 'the test' });
    expect(lock.path).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const holder = holderAt(path);
    expect(holder).toMatchObject({ pid: process.pid, host: hostname(), purpose: 'the test' });
    expect(Date.parse(holder.since)).toBeGreaterThanOrEqual(before - 1000);
    await lock.release();
    expect(existsSync(path)).toBe(false);
    await lock.release(); // twice is harmless
  });

  it('a second acquire fails at once with a ConflictError (exit 3) naming the pid', async () => {
    const path = lockPath();
    const lock = await acquireFileLock(path, { purpose: 'the backup' });
    const started = Date.now();
    const error = await rejection(acquireFileLock(path, { purpose: 'the backup' }));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as ConflictError).exitCode).toBe(ExitCode.conflict);
    expect((error as ConflictError).exitCode).toBe(3);
    expect(error.message).toMatch(
      new RegExp(`^the backup is locked by pid ${process.pid} since \\d{4}-\\d\\d-\\d\\dT`),
    );
    expect((error as ConflictError).hint).toContain(path);
    expect(holderAt(path).pid).toBe(process.pid); // untouched
    await lock.release();
  });

  it('onHeld builds the error', async () => {
    const path = lockPath();
    const lock = await acquireFileLock(path, { purpose: 'p' });
    const error = await rejection(
      acquireFileLock(path, { purpose: 'p', onHeld: (h) => new Error(`held by ${h.pid}`) }),
    );
    expect(error.message).toBe(`held by ${process.pid}`);
    await lock.release();
  });

  it('waitMs waits for the holder to release', async () => {
    const path = lockPath();
    const first = await acquireFileLock(path, { purpose: 'p' });
    const started = Date.now();
    setTimeout(() => void first.release(), 300);
    const second = await acquireFileLock(path, { purpose: 'p', waitMs: 5000 });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(2000);
    expect(holderAt(path).pid).toBe(process.pid);
    await second.release();
    expect(existsSync(path)).toBe(false);
  });

  it('waitMs gives up after about waitMs', async () => {
    const path = lockPath();
    const lock = await acquireFileLock(path, { purpose: 'p' });
    const started = Date.now();
    const error = await rejection(acquireFileLock(path, { purpose: 'p', waitMs: 400 }));
    const waited = Date.now() - started;
    expect(error).toBeInstanceOf(ConflictError);
    expect(waited).toBeGreaterThanOrEqual(400);
    expect(waited).toBeLessThan(2000);
    await lock.release();
  });

  it('takes over a lock left by a dead process on this host, leaving nothing behind', async () => {
    const path = lockPath();
    const pid = deadPid();
    writeHolder(path, { pid, host: hostname(), since: new Date().toISOString(), purpose: 'p' });
    const lock = await acquireFileLock(path, { purpose: 'p' });
    expect(holderAt(path).pid).toBe(process.pid);
    await lock.release();
    expect(readdirSync(dir).filter((name) => name.includes('stale'))).toEqual([]);
  });

  it('does not take over a dead pid from another host (it cannot know)', async () => {
    const path = lockPath();
    const pid = deadPid();
    writeHolder(path, { pid, host: `not-${hostname()}`, since: '2020-01-01T00:00:00.000Z' });
    const error = await rejection(acquireFileLock(path, { purpose: 'p' }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(`p is locked by pid ${pid} since 2020-01-01T00:00:00.000Z`);
  });

  it('a live holder from this host is respected', async () => {
    const path = lockPath();
    writeHolder(path, { pid: 1, host: hostname(), since: 's' }, 60_000);
    const error = await rejection(acquireFileLock(path, { purpose: 'p' }));
    expect(error.message).toBe('p is locked by pid 1 since s');
  });

  it('waits on an empty lock file newer than 5 s (its holder is writing it)', async () => {
    const path = lockPath();
    writeFileSync(path, '');
    const started = Date.now();
    setTimeout(() => writeHolder(path, { pid: 1, host: hostname(), since: 'then' }), 300);
    const error = await rejection(acquireFileLock(path, { purpose: 'p' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(error.message).toBe('p is locked by pid 1 since then');
  });

  it('takes the lock once a half-written file goes away', async () => {
    const path = lockPath();
    writeFileSync(path, '{"pid": 12');
    const started = Date.now();
    setTimeout(() => rmSync(path), 300);
    const lock = await acquireFileLock(path, { purpose: 'p' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(holderAt(path).pid).toBe(process.pid);
    await lock.release();
  });

  it('removes an empty or unreadable lock file older than 5 s', async () => {
    for (const text of ['', '{"pid": 12', '{"pid": 0, "host": "h"}', '{"pid": -1}', 'null']) {
      const path = lockPath();
      writeFileSync(path, text);
      const when = (Date.now() - 10_000) / 1000;
      utimesSync(path, when, when);
      const started = Date.now();
      const lock = await acquireFileLock(path, { purpose: 'p' });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(holderAt(path).pid).toBe(process.pid);
      await lock.release();
    }
    expect(readdirSync(dir).filter((name) => name.includes('stale'))).toEqual([]);
  });

  it('release never removes a lock someone took after it', async () => {
    const path = lockPath();
    const first = await acquireFileLock(path, { purpose: 'p' });
    await first.release();
    const second = await acquireFileLock(path, { purpose: 'p' });
    await first.release(); // stale handle, same pid
    expect(existsSync(path)).toBe(true);
    await second.release();
    expect(existsSync(path)).toBe(false);

    const third = await acquireFileLock(path, { purpose: 'p' });
    writeHolder(path, { pid: 1, host: hostname(), since: 'x' }); // replaced behind our back
    await third.release();
    expect(holderAt(path).pid).toBe(1);
  });

  it('other errors (a missing folder) are not swallowed', async () => {
    const error = await rejection(acquireFileLock(join(dir, 'no-such-dir', 'lock'), { purpose: 'p' }));
    expect((error as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('processAlive', () => {
  it('is true for this process and pid 1, false for a reaped child', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(1)).toBe(true);
    expect(processAlive(deadPid())).toBe(false);
  });
});
