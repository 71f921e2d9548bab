/**
 * The programs pgstore starts die with it: pgstore SIGKILLed mid-backup (as by the OOM killer)
 * leaves no pg_dump running on (a streamed dump gets EPIPE/SIGPIPE; a directory dump is stopped
 * by the watcher), and the partial backup is never listed; the next run removes it.
 * The killed runs are the binary; the listings and the next runs go through the CLI's entry
 * in-process (pgstoreInProcessDirect: same parsing, output and exit codes, no node start-up).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv } from '../helpers/cli.js';
import { useTestDatabase } from '../helpers/db.js';
import { NEWEST_PG_BIN, pgstoreInProcessDirect, tempDir } from './backup-helpers.js';
import { processAlive } from '../../src/util/file-lock.js';

const db = useTestDatabase();
const base = tempDir('backup-killed');

beforeAll(async () => {
  // Big enough that pg_dump is still writing long after the 2 MB the tests wait for: ≈ 16 MB of
  // compressed dump, over a second of dumping past that mark (~3 s on a busy machine; the
  // tests look every 20 ms). Hashes as bytea (dumped as hex) cost the server half the CPU per
  // dumped MB that md5 text rows did (1.5M of those: 3 s). Unlogged: pg_dump dumps its rows all
  // the same, and the server writes no WAL for them.
  await db.sql.unsafe(
    `create unlogged table public.big as
       select i, sha256(i::text::bytea) || sha256((i * 7)::text::bytea) || sha256((i * 11)::text::bytea) as a
         from generate_series(1, 140000) i`,
  );
}, 120_000);

/** pid, parent pid and state of every process named `name` (from /proc). */
function processes(name: string): Array<{ pid: number; ppid: number; state: string }> {
  const out: Array<{ pid: number; ppid: number; state: string }> = [];
  for (const entry of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== name) continue;
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(entry), ppid: Number(ppid), state: state! });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function bytesUnder(path: string): number {
  try {
    const info = statSync(path);
    return info.isDirectory() ? readdirSync(path).reduce((sum, n) => sum + bytesUnder(join(path, n)), 0) : info.size;
  } catch {
    return 0;
  }
}

async function killMidway(dir: string, extra: string[]): Promise<void> {
  const child = spawn(process.execPath, [BIN, 'backup', '--dir', dir, ...extra], {
    // The client programs named directly (backup-helpers.ts, NEWEST_PG_BIN): pg_dump is a
    // child of pgstore either way (Debian's pg_wrapper execs it), here without a Perl start first.
    env: cleanEnv({ DATABASE_URL: db.url, PGSTORE_PG_BIN: NEWEST_PG_BIN }),
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const folder = join(dir, db.name);
  const deadline = Date.now() + 30_000;
  let dumps: number[] = [];
  // Wait until pgstore's pg_dump has written 2 MB (of ≈ 16): it is mid-way.
  for (;;) {
    expect(Date.now(), 'pg_dump never got going').toBeLessThan(deadline);
    // The folder first: the walk of every process in /proc only once the dump is under way.
    const partial = (existsSync(folder) ? readdirSync(folder) : []).find((name) => name.startsWith('.partial-'));
    const leader =
      partial && bytesUnder(join(folder, partial)) > 2_000_000
        ? processes('pg_dump').find((p) => p.ppid === child.pid)
        : undefined;
    if (leader) {
      dumps = [
        leader.pid,
        ...processes('pg_dump')
          .filter((p) => p.ppid === leader.pid)
          .map((p) => p.pid),
      ];
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();
  while (dumps.some((pid) => processAlive(pid)) && Date.now() - killedAt < 5_000)
    await new Promise((r) => setTimeout(r, 20));
  const lived = Date.now() - killedAt;
  expect(
    dumps.filter((pid) => processAlive(pid)),
    `pg_dump still running ${lived} ms after pgstore was killed`,
  ).toEqual([]);
  expect(lived).toBeLessThan(1_500);

  // The partial backup is not presented as a backup; the next run removes it (last test).
  const list = await pgstoreInProcessDirect(db.url, ['backup', 'list', '--dir', dir, '--json']);
  expect(list.code, list.stderr).toBe(0);
  expect(JSON.parse(list.stdout)).toEqual([]);
  killed.push({ dir, extra });
}

/** Backup folders holding a partial backup of a killed run, with that run's options. */
const killed: Array<{ dir: string; extra: string[] }> = [];

describe('pgstore killed mid-backup (SIGKILL)', () => {
  it('custom format (streamed): pg_dump is gone within ~1 s and nothing partial is listed', async () => {
    await killMidway(join(base, 'custom'), []);
  }, 120_000);

  it('directory format with 2 jobs (the watcher): pg_dump and its workers are gone within ~1 s', async () => {
    await killMidway(join(base, 'directory'), ['--format', 'directory', '--jobs', '2']);
  }, 120_000);

  it('the next run removes the partial backup of each killed run', async () => {
    expect(killed.length, 'runs with the tests above').toBe(2);
    // What is removed does not depend on the size: emptied, the next backups take a moment.
    await db.sql.unsafe('truncate public.big');
    for (const { dir, extra } of killed) {
      const next = await pgstoreInProcessDirect(db.url, ['backup', '--dir', dir, '--json', ...extra]);
      expect(next.code, next.stderr).toBe(0);
      expect(JSON.parse(next.stdout).leftoversRemoved).toEqual([expect.stringMatching(/^\.partial-/)]);
    }
  });
});
