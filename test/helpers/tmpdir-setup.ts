/**
 * Global setup that gives the run a temporary folder of its own under serverDataRoot()
 * (memory, /dev/shm, when there is one: server-info.ts says why files are costly on this
 * machine's disk): TMPDIR is set before the workers start, so the tests' scratch folders and
 * the files of the programs they run (backups, dumps, repositories) are made there, and all
 * of it goes when the run ends. PGSTORE_TEST_KEEP_TMPDIR=1 keeps the caller's TMPDIR.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { serverDataRoot } from './server-info.js';

export default function setup(): () => void {
  if (process.env.PGSTORE_TEST_KEEP_TMPDIR === '1') return () => undefined;
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(serverDataRoot(), 'pgstore-tests-'));
  // As /tmp is: every account may enter it (the embedded server's account, as root, must
  // reach the homes made under it); each test's own folder keeps mkdtemp's 0700.
  chmodSync(dir, 0o1777);
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
