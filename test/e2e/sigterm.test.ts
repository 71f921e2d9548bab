/**
 * SIGTERM ends pgstore within a second in every phase of a long `hosts list`: while it
 * connects, fetches, draws a large table (cli-table3 took minutes here: ui/table.ts) or writes
 * JSON, and while stdout is a pipe nobody reads. Exit 143, as a shell reports SIGTERM.
 *
 * 20k hosts: cli-table3 (what ui/table.ts replaced) would draw them for half a minute and a
 * writer that blocks on a full pipe never returns, so either breaks the second; more rows only
 * slow the test. `npm test` stops each moment once (read or unread pipe, rotating: matrix() in
 * test/stress/harness.ts) and each JSON/hosts/export writer once; `npm run stress` tries every
 * combination.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult, cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { useTestDatabase } from '../helpers/db.js';
import { closeListeners, type Listener, listen } from '../helpers/not-postgres.js';
import { matrix } from '../stress/harness.js';

const HOSTS = 20_000;
const STOP_WITHIN_MS = 1_000;

interface Stopped {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From the signal to the exit. */
  stopMs: number;
  stderr: string;
  stdoutBytes: number;
}

/**
 * Starts pgstore with `args`, sends SIGTERM `afterMs` later, and reports how it ended. With
 * `readStdout` false, stdout is a pipe nobody reads (it fills up and stays full).
 */
function stopAfter(args: string[], env: Record<string, string>, afterMs: number, readStdout = true): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdoutBytes = 0;
    let signalledAt = 0;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (readStdout) child.stdout.on('data', (d: Buffer) => (stdoutBytes += d.length));
    else child.stdout.pause();
    const timer = setTimeout(() => {
      signalledAt = performance.now();
      child.kill('SIGTERM');
    }, afterMs);
    const killer = setTimeout(() => child.kill('SIGKILL'), afterMs + 30_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      child.stdout.destroy();
      resolve({ code, signal, stopMs: signalledAt ? performance.now() - signalledAt : -1, stderr, stdoutBytes });
    });
  });
}

describe('SIGTERM during a long hosts list', () => {
  const db = useTestDatabase();
  let silent: Listener;
  const env = () => cleanEnv({ DATABASE_URL: db.url });

  /**
   * One uninterrupted `hosts list` through the binary, run once for the file: its duration
   * spreads the moments of the stops, its output is the whole table checked by the last test.
   */
  let whole: Promise<{ result: CliResult; durationMs: number }> | undefined;
  const wholeTable = () => {
    whole ??= (async () => {
      const started = performance.now();
      const result = await runCli(['hosts', 'list'], { env: env(), timeoutMs: 60_000 });
      return { result, durationMs: performance.now() - started };
    })();
    return whole;
  };

  beforeAll(async () => {
    silent = await listen('silent');
    // The data only (seed is not what is tested here): in-process, no node start-up.
    const seeded = await runCliInProcess(
      [
        'seed',
        '--synthetic',
        '--hosts',
        String(HOSTS),
        '--events-per-host',
        '1',
        '--users',
        '0',
        '--tenants',
        '0',
        '-q',
      ],
      { env: env(), timeoutMs: 120_000 },
    );
    expect(seeded.code, seeded.stderr).toBe(0);
  }, 180_000);
  afterAll(() => closeListeners([silent]));

  const expectStopped = (r: Stopped, what: string) => {
    expect(r.stopMs, `${what}: pgstore ended before the signal`).toBeGreaterThanOrEqual(0);
    // Before pgstore's handler is in place (Node still loading it), SIGTERM's default action
    // ends the process: a shell sees 143 too, and there is nothing to clean up yet.
    const status = r.signal === 'SIGTERM' ? 143 : r.code;
    expect({ what, status, stderr: status === 143 ? '' : r.stderr }).toEqual({ what, status: 143, stderr: '' });
    expect(r.stopMs, `${what}: ${r.stopMs.toFixed(0)} ms from SIGTERM to exit`).toBeLessThan(STOP_WITHIN_MS);
    if (r.signal === null) expect(r.stderr).toContain('Stopped by SIGTERM.');
  };

  it('while connecting (a silent server): 143 within a second', async () => {
    const url = `postgres://someone:pw@127.0.0.1:${silent.port}/app`;
    expectStopped(await stopAfter(['hosts', 'list'], cleanEnv({ DATABASE_URL: url }), 700), 'connect');
  });

  it('at any moment of fetching and drawing a large table, stdout read or not: 143 within a second', async () => {
    // Moments spread over an uninterrupted run: start-up, connect, fetch and drawing.
    const { result, durationMs: duration } = await wholeTable();
    expect(result.code).toBe(0);
    let read = 0;
    let stoppedWhileRead = 0;
    const moments = [0.15, 0.3, 0.45, 0.6, 0.75, 0.9].map((f) => Math.round(f * duration));
    for (const [afterMs, readStdout] of matrix(moments, [true, false])) {
      const r = await stopAfter(['hosts', 'list'], env(), afterMs, readStdout);
      if (!readStdout) {
        expectStopped(r, `table, unread pipe, ${afterMs} ms of ${duration.toFixed(0)}`);
        continue;
      }
      read++;
      // Read to the end, a run may finish first near the end: that is no stop to check.
      if (r.stopMs >= 0 || r.code !== 0) {
        expectStopped(r, `table, read, ${afterMs} ms of ${duration.toFixed(0)}`);
        stoppedWhileRead++;
      }
    }
    expect(stoppedWhileRead).toBeGreaterThanOrEqual(read - (read > 3 ? 2 : 1));
  }, 120_000);

  it('while writing JSON, a hosts file or an export of every entry: 143 within a second', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgstore-sigterm-'));
    try {
      const writers: Array<[string, string[]]> = [
        ['json', ['hosts', 'list', '--json']],
        ['hosts format', ['hosts', 'list', '--format', 'hosts']],
        ['export', ['hosts', 'export', '--format', 'jsonl']],
      ];
      for (const [[what, args], afterMs] of matrix(writers, [1_300, 2_500])) {
        expectStopped(await stopAfter(args, env(), afterMs, false), `${what}, unread pipe, ${afterMs} ms`);
      }
      // To a file: stopped at some moment, or done first; either way quickly, and no partial file.
      const toFile = await stopAfter(
        ['hosts', 'export', '--format', 'jsonl', '-o', join(dir, 'all.jsonl')],
        env(),
        1_300,
        true,
      );
      // Done first includes a signal that lands after the work, while the process exits (code 0,
      // the whole file in place): seen on a busy machine.
      const doneFirst = toFile.code === 0 && readdirSync(dir).includes('all.jsonl');
      if (toFile.stopMs >= 0 && !doneFirst) expectStopped(toFile, 'export to a file');
      expect(readdirSync(dir).filter((f) => f !== 'all.jsonl' && !f.includes('.tmp-'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the whole table is written when nobody stops it', async () => {
    const { result: r } = await wholeTable();
    expect(r.code, r.stderr.slice(0, 2000)).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const count = Number(/^(\d+) entries$/.exec(lines.at(-1)!)?.[1]);
    expect(count).toBeGreaterThan(HOSTS * 0.9);
    // Top rule, header, the rows, bottom rule, the count.
    expect(lines.length).toBe(count + 4);
    expect(lines.at(-2)).toMatch(/^└─+┴/);
  }, 60_000);
});
