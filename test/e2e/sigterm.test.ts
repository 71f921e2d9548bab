/**
 * SIGTERM ends pgstore within a second in every phase of a long `hosts list`: while it
 * connects, fetches, draws a large table (cli-table3 took minutes here: ui/table.ts) or writes
 * JSON, and while stdout is a pipe nobody reads. Exit 143, as a shell reports SIGTERM.
 *
 * 20k hosts: cli-table3 (what ui/table.ts replaced) would draw them for half a minute and a
 * writer that blocks on a full pipe never returns, so either breaks the second; more rows only
 * slow the test. Each moment is waited for (its session in pg_stat_activity, its first output,
 * its file), not guessed by a delay: on a busy machine a fixed delay lands in another phase.
 * `npm test` stops each moment once (read or unread pipe, rotating: matrix() in
 * test/stress/harness.ts) and each JSON/hosts/export writer once; `npm run stress` tries every
 * combination.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, runCli } from '../helpers/cli.js';
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

/** A run of pgstore, seen from outside: what the moments of the stops wait for. */
interface Running {
  /** Resolves with its first bytes on stdout (the drawing or writing has begun), or its exit. */
  firstOutput: Promise<void>;
  ended(): boolean;
}

/** When to stop a run: `ms` after `phase` has begun (resolved), a name for the messages. */
interface Moment {
  name: string;
  phase: (run: Running) => Promise<unknown>;
  ms: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `seen` every 10 ms until it holds (bounded: a phase that never comes fails the stop's checks). */
async function until(run: Running, seen: () => boolean | Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  for (const end = Date.now() + deadlineMs; !run.ended() && !(await seen()) && Date.now() < end; ) await sleep(10);
}

/**
 * Starts pgstore with `args`, sends SIGTERM at `moment` (waited for, not guessed: a fixed delay
 * is another phase on a busy machine) and reports how it ended. With `readStdout` false, stdout
 * is a pipe nobody reads after its first chunk (it fills up and stays full).
 */
function stopAt(args: string[], env: Record<string, string>, moment: Moment, readStdout = true): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdoutBytes = 0;
    let signalledAt = 0;
    let exited = false;
    let output!: () => void;
    const firstOutput = new Promise<void>((r) => (output = r));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdoutBytes += d.length;
      output();
      if (!readStdout) child.stdout.pause();
    });
    void moment
      .phase({ firstOutput, ended: () => exited })
      .then(() => sleep(moment.ms))
      .then(() => {
        if (exited) return;
        signalledAt = performance.now();
        child.kill('SIGTERM');
      });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = true;
      output(); // a run that ends before its phase does not hold up the next
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
  /** The environment of a run whose sessions are named `name` (application_name), to see them. */
  const named = (name: string) => {
    const url = new URL(db.url);
    url.searchParams.set('application_name', name);
    return cleanEnv({ DATABASE_URL: url.toString() });
  };
  let runs = 0;

  /** Moments of a run: after node's start, once its session is on the server, once it writes. */
  const started = (ms: number): Moment => ({ name: `${ms} ms after the start`, phase: async () => {}, ms });
  const output = (ms: number): Moment => ({ name: `${ms} ms into its output`, phase: (run) => run.firstOutput, ms });
  /** Its session appears in pg_stat_activity (`name`: the run's application_name). */
  const session = (name: string, ms: number): Moment => ({
    name: `${ms} ms after its session began`,
    phase: (run) =>
      until(run, async () => {
        const rows = await db.sql`select 1 from pg_stat_activity where application_name = ${name}`;
        return rows.length > 0;
      }),
    ms,
  });

  /**
   * The data only (neither seed nor import is what is tested here), in one INSERT ... SELECT
   * through the append trigger (set-based: ~0.6 s of CPU here; `seed --synthetic` took ~1.4 s,
   * the trigger off and rebuild_projection() ~1.2 s). The GIN indexes of hosts.hosts (search,
   * not read by a plain list) are dropped for the load and built again once: ~0.15 s less than
   * 20k single GIN inserts. Rows about as wide as `seed --synthetic`'s: a tag or three, an alias
   * for a third, a comment for half.
   */
  const loadHosts = async () => {
    const gins = await db.sql<Array<{ name: string; def: string }>>`
      select indexname as name, indexdef as def from pg_indexes
      where schemaname = 'hosts' and tablename = 'hosts' and indexdef like '% USING gin %'`;
    for (const { name } of gins) await db.sql.unsafe(`drop index hosts.${name}`);
    await db.sql.unsafe(`
      insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, event, created_at)
      select 'e' || g, 'h' || lpad(g::text, 6, '0'), 'HostCreated', lpad(g::text, 12, '0'),
             jsonb_build_object('type', 'HostCreated',
               'ipAddress', '10.' || (g >> 16) || '.' || ((g >> 8) & 255) || '.' || (g & 255),
               'hostname', (array['web', 'db', 'cache', 'worker'])[g % 4 + 1] || '-' || g || '.prod.example',
               'aliases', case when g % 3 = 0 then jsonb_build_array('app' || g || '.prod.example') else '[]' end,
               'comment', case when g % 2 = 0 then 'server for billing ' || g end,
               'tags', (array['["prod"]', '["prod", "eu"]', '["prod", "eu", "pci"]'])[g % 3 + 1]::jsonb,
               'createdAt', now()),
             now() - interval '30 days' + g * interval '1 ms'
      from generate_series(1, ${HOSTS}) g`);
    for (const { def } of gins) await db.sql.unsafe(def);
  };

  beforeAll(async () => {
    silent = await listen('silent');
    await loadHosts();
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
    const before = silent.connections;
    // Once the silent server holds its connection: pgstore waits for an answer that never comes.
    const connecting: Moment = {
      name: 'connecting',
      phase: (run) => until(run, () => silent.connections > before),
      ms: 50,
    };
    expectStopped(await stopAt(['hosts', 'list'], cleanEnv({ DATABASE_URL: url }), connecting), 'connect');
  });

  it('at any moment of fetching and drawing a large table, stdout read or not: 143 within a second', async () => {
    // Start-up, connect, fetch and drawing: each waited for, then stopped a little into it.
    const moments = (name: string) => [
      started(100),
      session(name, 0),
      session(name, 300),
      output(0),
      output(200),
      output(500),
    ];
    let read = 0;
    let stoppedWhileRead = 0;
    for (const [index, readStdout] of matrix([0, 1, 2, 3, 4, 5], [true, false])) {
      const name = `pgstore-sigterm-${++runs}`;
      const moment = moments(name)[index]!;
      const r = await stopAt(['hosts', 'list'], named(name), moment, readStdout);
      if (!readStdout) {
        expectStopped(r, `table, unread pipe, ${moment.name}`);
        continue;
      }
      read++;
      // Read to the end, a run may finish first near the end: that is no stop to check.
      if (r.stopMs >= 0 || r.code !== 0) {
        expectStopped(r, `table, read, ${moment.name}`);
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
      // Its first chunk read, the pipe fills within milliseconds: as it fills, and long full.
      for (const [[what, args], ms] of matrix(writers, [100, 600])) {
        expectStopped(await stopAt(args, env(), output(ms), false), `${what}, unread pipe, ${output(ms).name}`);
      }
      // To a file: stopped while it writes (its temporary file is there), or done first; either
      // way quickly, and no partial file.
      const writing: Moment = {
        name: 'writing the file',
        phase: (run) => until(run, () => readdirSync(dir).length > 0),
        ms: 100,
      };
      const toFile = await stopAt(
        ['hosts', 'export', '--format', 'jsonl', '-o', join(dir, 'all.jsonl')],
        env(),
        writing,
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
    const r = await runCli(['hosts', 'list'], { env: env(), timeoutMs: 60_000 });
    expect(r.code, r.stderr.slice(0, 2000)).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const count = Number(/^(\d+) entries$/.exec(lines.at(-1)!)?.[1]);
    expect(count).toBeGreaterThan(HOSTS * 0.9);
    // Top rule, header, the rows, bottom rule, the count.
    expect(lines.length).toBe(count + 4);
    expect(lines.at(-2)).toMatch(/^└─+┴/);
  }, 60_000);
});
