/**
 * Backups that go wrong: pg_dump killed mid-dump, two backups at once, a lock left by a dead
 * process, and the password never appearing in any process's argv. Two processes at once and
 * a signal run the binary; the rest runs the CLI's entry in-process (pgstoreInProcess).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { BIN, cleanEnv, type CliResult } from '../helpers/cli.js';
import { useTestDatabase } from '../helpers/db.js';
import { PG_BIN, pgDumpWrapper, pgstore, pgstoreInProcess, tempDir } from './backup-helpers.js';

const db = useTestDatabase();
const base = tempDir('backup-fail');

const KILL_MIDWAY = `
out=""
for a in "$@"; do case "$a" in --file=*) out="\${a#--file=}";; esac; done
${PG_BIN}/pg_dump "$@" &
child=$!
i=0
# A streamed dump (no --file) writes to pgstore's pipe: give it a moment to start.
if [ -z "$out" ]; then sleep 0.3; else
while [ ! -s "$out" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
fi
kill -KILL $child 2>/dev/null
wait $child 2>/dev/null
kill -KILL $$`;

/** pg_dump held back until `release` exists (at most 20 s): the test says when the first backup may go on. */
const held = (release: string) =>
  `i=0\nwhile [ ! -e '${release}' ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i+1)); done\nexec ${PG_BIN}/pg_dump "$@"`;

/** Starts pgstore without waiting; resolves when it exits. */
function startCli(args: string[], env: Record<string, string>): { done: Promise<CliResult>; pid: number } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { done, pid: child.pid! };
}

/** Every process's command line right now. */
function allCommandLines(): Array<{ pid: string; cmdline: string }> {
  const out: Array<{ pid: string; cmdline: string }> = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      out.push({ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Whether process `pid` is `ancestor` or started by it (through any number of parents). */
function descendsFrom(pid: string, ancestor: number): boolean {
  for (let current = Number(pid), hops = 0; current > 1 && hops < 64; hops++) {
    if (current === ancestor) return true;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${current}/stat`, 'utf8');
      current = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

describe('pgstore backup when things go wrong', () => {
  it('a pg_dump killed mid-backup: exit non-zero, nothing listed or left, the next backup succeeds', async () => {
    const dir = join(base, 'killed');
    const metrics = join(base, 'killed.prom');
    const bin = pgDumpWrapper(base, 'kill', KILL_MIDWAY);
    const failed = await pgstoreInProcess(
      db.url,
      ['backup', '--dir', dir, '--metrics-file', metrics, '--keep-last', '1'],
      {
        PGSTORE_PG_BIN: bin,
      },
    );
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/pg_dump was killed by SIGKILL/);
    expect(failed.stderr).toMatch(/nothing was listed or pruned/);
    expect(readdirSync(join(dir, db.name))).toEqual([]);
    expect(readFileSync(metrics, 'utf8')).toMatch(/^pgstore_backup_success\{[^}]*\} 0$/m);
    expect(readFileSync(metrics, 'utf8')).toMatch(/^pgstore_backup_last_success_timestamp_seconds\{[^}]*\} 0$/m);
    const list = await pgstoreInProcess(db.url, ['backup', 'list', '--dir', dir, '--json']);
    expect(JSON.parse(list.stdout)).toEqual([]);

    const next = await pgstoreInProcess(db.url, ['backup', '--dir', dir, '--metrics-file', metrics, '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(
      JSON.parse((await pgstoreInProcess(db.url, ['backup', 'list', '--dir', dir, '--json'])).stdout),
    ).toHaveLength(1);
    expect(readFileSync(metrics, 'utf8')).toMatch(/^pgstore_backup_success\{[^}]*\} 1$/m);
  });

  it('the leftovers of a run that died are removed by the next one', async () => {
    const dir = join(base, 'leftover');
    const partial = join(dir, db.name, '.partial-20200101T000000.000Z');
    mkdirSync(partial, { recursive: true });
    writeFileSync(join(partial, 'backup.dump'), 'half a dump');
    const r = await pgstoreInProcess(db.url, ['backup', '--dir', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).leftoversRemoved).toEqual(['.partial-20200101T000000.000Z']);
    expect(existsSync(partial)).toBe(false);
  });

  it('two backups at once: the second exits 3 naming the first; no argv holds the password', async () => {
    const dir = join(base, 'concurrent');
    const release = join(base, 'slow.release');
    const bin = pgDumpWrapper(base, 'slow', held(release));
    const env = cleanEnv({ DATABASE_URL: db.url, PGSTORE_PG_BIN: bin });
    const first = startCli(['backup', '--dir', dir], env);
    const lock = join(dir, db.name, '.lock');
    const password = inject('pgServer').password;
    let sawPgDump = false;
    const leaks: string[] = [];
    const deadline = Date.now() + 20_000;
    while (!existsSync(lock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(lock)).toBe(true);

    const second = await pgstore(db.url, ['backup', '--dir', dir]);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(
      new RegExp(`another backup of ${db.name} is running, pid ${first.pid} since \\d{4}-\\d\\d-\\d\\dT`),
    );

    // While the first one runs: scan every process's argv for the password; its pg_dump (held
    // back, with the arguments it will run with) goes on once it has been seen.
    let finished = false;
    void first.done.then(() => (finished = true));
    const until = Date.now() + 20_000;
    while (!finished) {
      for (const p of allCommandLines()) {
        if (p.cmdline.includes('pg_dump') && p.cmdline.includes('--snapshot=')) sawPgDump = true;
        if (p.cmdline.includes(password)) leaks.push(`${p.pid}: ${p.cmdline.replace(password, '***')}`);
      }
      if (sawPgDump || Date.now() > until) writeFileSync(release, '');
      await new Promise((r) => setTimeout(r, 10));
    }
    const result = await first.done;
    expect(result.code, result.stderr).toBe(0);
    expect(sawPgDump).toBe(true);
    expect(leaks).toEqual([]);
    expect(existsSync(lock)).toBe(false);
  });

  it('SIGTERM to pgstore alone stops its pg_dump too, exits 143 and says so; the next backup cleans up', async () => {
    const dir = join(base, 'sigterm');
    // pg_dump waits for this lock (it locks every table it dumps) until pgstore is stopped.
    const blocker = await db.sql.reserve();
    await blocker`begin`;
    await blocker`lock table auth.users in access exclusive mode`;
    try {
      const env = cleanEnv({ DATABASE_URL: db.url });
      const run = startCli(['backup', '--dir', dir], env);
      // This pgstore's pg_dump only: other test files run backups of their own meanwhile.
      const dumps = () =>
        allCommandLines().filter(
          (p) => p.cmdline.includes('pg_dump') && p.cmdline.includes('--snapshot=') && descendsFrom(p.pid, run.pid),
        );
      const deadline = Date.now() + 20_000;
      while (dumps().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const mine = dumps();
      expect(mine).toHaveLength(1);
      process.kill(run.pid, 'SIGTERM');
      const result = await run.done;
      expect(result.code).toBe(143);
      expect(result.stderr).toContain('Stopped by SIGTERM.');
      // By pid: once pgstore is gone, a pg_dump left behind would have another parent.
      const alive = () =>
        mine.filter(
          (p) => existsSync(`/proc/${p.pid}`) && readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('pg_dump'),
        );
      const gone = Date.now() + 5_000;
      while (alive().length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
      expect(alive()).toEqual([]);
    } finally {
      await blocker`rollback`;
      blocker.release();
    }
    const next = await pgstoreInProcess(db.url, ['backup', '--dir', dir, '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(JSON.parse(next.stdout).leftoversRemoved).toEqual([expect.stringMatching(/^\.partial-/)]);
  });

  it('takes over a lock left by a dead process', async () => {
    const dir = join(base, 'stale');
    mkdirSync(join(dir, db.name), { recursive: true });
    // A pid above the kernel's default pid_max: no such process.
    writeFileSync(
      join(dir, db.name, '.lock'),
      JSON.stringify({ pid: 4194304 + 7, host: hostname(), since: '2020-01-01T00:00:00.000Z', purpose: 'backup' }),
    );
    const r = await pgstoreInProcess(db.url, ['backup', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, db.name, '.lock'))).toBe(false);
  });
});
