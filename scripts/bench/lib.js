/**
 * Shared helpers for the benches in scripts/bench/: timing child processes, medians,
 * a clean environment, a private embedded server, and the result table.
 *
 * Every bench is a standalone ESM script. It reports; it is not a test: a MISS against a
 * target still exits 0, only a crash (a command that fails, a server that does not start)
 * exits non-zero.
 *
 * Output per measurement: one row in a table on stdout, and one machine-readable line
 *   BENCH {"bench":"startup","name":"version",...}
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** The repository root, and the built binary every bench runs (BENCH_PGSTORE_BIN: another build's, to compare). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PGSTORE_BIN = process.env.BENCH_PGSTORE_BIN || join(ROOT, 'bin', 'pgstore.js');
export const NODE = process.execPath;

// ---------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------

/**
 * Bench options from argv (`--runs N`, `--warmup N`, also `--runs=N`) or the environment
 * (BENCH_RUNS, BENCH_WARMUP), with the bench's own defaults.
 */
export function benchOptions(defaults = {}, argv = process.argv.slice(2)) {
  const options = { runs: 30, warmup: 3, ...defaults };
  if (process.env.BENCH_RUNS) options.runs = positiveInt(process.env.BENCH_RUNS, 'BENCH_RUNS');
  if (process.env.BENCH_WARMUP) options.warmup = nonNegativeInt(process.env.BENCH_WARMUP, 'BENCH_WARMUP');
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i];
    if (flag === '--runs') options.runs = positiveInt(value(), '--runs');
    else if (flag === '--warmup') options.warmup = nonNegativeInt(value(), '--warmup');
  }
  return options;
}

function positiveInt(text, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, not '${text}'`);
  return n;
}

function nonNegativeInt(text, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number ≥ 0, not '${text}'`);
  return n;
}

// ---------------------------------------------------------------------------------------
// Time and statistics
// ---------------------------------------------------------------------------------------

/** Milliseconds from a monotonic clock. */
export function now() {
  return performance.now();
}

/** Runs `fn` and returns `{ ms, value }`. */
export function timed(fn) {
  const start = performance.now();
  const value = fn();
  return { ms: performance.now() - start, value };
}

export function median(values) {
  return quantile(values, 0.5);
}

/** The q-quantile (0..1) with linear interpolation. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** median, min, max, p10, p90 and the samples, in ms. */
export function summarize(samples) {
  return {
    runs: samples.length,
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    p10: quantile(samples, 0.1),
    p90: quantile(samples, 0.9),
    samples,
  };
}

// ---------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------

/** True for variables that choose a database, so no child sees the caller's. */
function isConnectionVariable(key) {
  return key.startsWith('PG') || key === 'DATABASE_URL' || key.startsWith('DB_');
}

/**
 * The inherited environment without PG* (libpq and PGSTORE_*), DATABASE_URL and DB_* pool
 * variables, with NO_COLOR=1, plus `extra` (an undefined value removes the variable).
 */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || isConnectionVariable(key)) continue;
    env[key] = value;
  }
  env.NO_COLOR = '1';
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = String(value);
  }
  return env;
}

export class CommandFailed extends Error {
  constructor(label, result) {
    const why = result.error
      ? result.error.message
      : result.signal
        ? `killed by ${result.signal}`
        : `exit code ${result.status}`;
    const detail = [result.stderr, result.stdout]
      .map((s) => redact(String(s ?? '').trim()))
      .filter(Boolean)
      .join('\n');
    super(`${label} failed (${why})${detail ? `:\n${indent(detail.slice(-2000))}` : ''}`);
    this.name = 'CommandFailed';
    this.result = result;
  }
}

/**
 * Runs `cmd args` synchronously and times it (spawn to exit, stdout/stderr captured).
 * Returns `{ ms, status, signal, stdout, stderr, error }`. With `check` (the default) a
 * non-zero exit, a signal or a spawn error throws CommandFailed; `check` may also be a
 * function `(result) => boolean` deciding what counts as success.
 */
export function run(cmd, args = [], options = {}) {
  const { env = cleanEnv(), timeoutMs = 60_000, check = true, input, cwd = ROOT } = options;
  const start = performance.now();
  const result = spawnSync(cmd, args, {
    env,
    cwd,
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - start;
  const out = {
    ms,
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    error: result.error,
  };
  const ok = typeof check === 'function' ? !out.error && check(out) : !out.error && out.status === 0 && !out.signal;
  if (check && !ok) throw new CommandFailed(options.label ?? commandLine(cmd, args), out);
  return out;
}

/** Runs the built binary: `pgstore args`. */
export function runPgstore(args, options = {}) {
  return run(NODE, [PGSTORE_BIN, ...args], { label: `pgstore ${args.join(' ')}`, ...options });
}

/** A short printable form of a command line (passwords redacted). */
export function commandLine(cmd, args = []) {
  return redact([cmd, ...args].map((a) => (/[\s'"]/.test(a) ? `'${a}'` : a)).join(' '));
}

/** Hides the password of any URL in `text`. */
export function redact(text) {
  return String(text).replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/\s]*@/gi, '$1***@');
}

function indent(text) {
  return text.replace(/^/gm, '    ');
}

/**
 * Times several commands against each other: `warmup` untimed rounds, then `runs` timed
 * rounds, interleaved (each round runs every variant once, in a rotating order, so drift
 * in the machine's load hits all of them alike).
 *
 * variants: [{ name, cmd, args, env?, check?, timeoutMs? }]
 * Resolves to { [name]: summarize(samples) }.
 */
export async function compare(variants, { runs, warmup, onProgress } = {}) {
  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  const total = warmup + runs;
  for (let round = 0; round < total; round++) {
    const order = rotate(variants, round % variants.length);
    for (const v of order) {
      const result = run(v.cmd, v.args, {
        env: v.env,
        check: v.check ?? true,
        timeoutMs: v.timeoutMs,
        label: v.label ?? v.name,
      });
      if (round >= warmup) samples[v.name].push(result.ms);
      // Let the event loop run, so a SIGINT/SIGTERM handler (the server's clean-up) fires now.
      await new Promise((resolve) => setImmediate(resolve));
    }
    onProgress?.(round + 1, total);
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, summarize(s)]));
}

function rotate(list, by) {
  return [...list.slice(by), ...list.slice(0, by)];
}

/** A progress indicator on stderr (only on a terminal). */
export function progress(label) {
  const tty = process.stderr.isTTY;
  return {
    update(done, total) {
      if (tty) process.stderr.write(`\r  ${label}: ${done}/${total}`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}

// ---------------------------------------------------------------------------------------
// A private embedded server
// ---------------------------------------------------------------------------------------

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts a private embedded server with the built binary, in a fresh temporary
 * PGSTORE_HOME on a free port. Returns
 *   { home, port, url, env(extra), stop() }
 * where env() is the clean environment pointing pgstore at this server and stop() stops
 * it and removes the folder (idempotent; also runs on SIGINT/SIGTERM/exit). If the start
 * fails, what was started is cleaned up before the error is thrown.
 *
 * The home is made by mkdtemp under the system temp dir (not under /root: as root the
 * server runs as the `postgres` account, which must be able to enter every parent).
 */
export async function startServer({ log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const home = mkdtempSync(join(tmpdir(), 'pgstore-bench-'));
  const port = await freePort();
  const env = (extra = {}) => cleanEnv({ PGSTORE_HOME: home, PGSTORE_PORT: String(port), ...extra });

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      const r = runPgstore(['server', 'stop'], { env: env(), check: false, timeoutMs: 60_000 });
      if (r.error || r.status !== 0)
        log(
          `warning: could not stop the bench server in ${home}: ${redact((r.stderr || r.stdout || r.error?.message || '').trim())}`,
        );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };
  const onSignal = (signal) => {
    stop();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', stop);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    log(`Starting a private embedded server (PGSTORE_HOME=${home}, PGSTORE_PORT=${port})...`);
    const started = runPgstore(['server', 'start'], { env: env(), timeoutMs: 180_000 });
    const url = runPgstore(['server', 'url'], { env: env() }).stdout.trim();
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`pgstore server url printed no URL: ${redact(url)}`);
    return { home, port, url, env, stop, startMs: started.ms };
  } catch (error) {
    stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------

/**
 * A target: `ratio(1.3)` → subject median ≤ 1.3 × baseline median;
 * `seconds(0.25)` → subject median ≤ 0.25 s.
 */
export const ratio = (max) => ({ kind: 'ratio', max, text: `≤ ${max}×`, met: (r) => r.ratio <= max });
export const seconds = (max) => ({
  kind: 'seconds',
  max,
  text: `≤ ${max} s`,
  met: (r) => r.subject.stats.median <= max * 1000,
});

/**
 * Prints one bench's table and its BENCH lines.
 *
 * rows: [{ name, subject: { label, stats }, baseline: { label, stats }, target, extra? }]
 * Returns the rows with ratio and pass filled in.
 */
export function report(bench, title, rows, { runs, warmup } = {}) {
  const results = rows.map((row) => {
    const r = { ...row, ratio: row.subject.stats.median / row.baseline.stats.median };
    r.pass = row.target ? row.target.met(r) : undefined;
    return r;
  });

  const header = ['measurement', 'median', 'p10–p90', 'baseline', 'median', 'ratio', 'target', 'result'];
  const body = results.map((r) => [
    r.subject.label,
    fmtS(r.subject.stats.median),
    `${fmtS(r.subject.stats.p10)}–${fmtS(r.subject.stats.p90)}`,
    r.baseline.label,
    fmtS(r.baseline.stats.median),
    `${r.ratio.toFixed(2)}×`,
    r.target?.text ?? '—',
    r.pass === undefined ? '—' : r.pass ? 'PASS' : 'MISS',
  ]);
  const meta = runs !== undefined ? ` (${runs} runs each after ${warmup} warm-up, interleaved; times in seconds)` : '';
  console.log(`\n${title}${meta}`);
  console.log(table(header, body));

  for (const r of results) {
    const line = {
      bench,
      name: r.name,
      subject: r.subject.label,
      medianMs: round(r.subject.stats.median),
      minMs: round(r.subject.stats.min),
      p90Ms: round(r.subject.stats.p90),
      baseline: r.baseline.label,
      baselineMedianMs: round(r.baseline.stats.median),
      ratio: round(r.ratio, 3),
      target: r.target ? { kind: r.target.kind, max: r.target.max } : null,
      pass: r.pass ?? null,
      runs: r.subject.stats.runs,
      ...(r.extra ?? {}),
    };
    console.log(`BENCH ${JSON.stringify(line)}`);
  }
  return results;
}

function fmtS(ms) {
  return (ms / 1000).toFixed(3);
}

function round(n, digits = 1) {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** A plain-text table: left-aligned text, right-aligned numbers. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[\d.–×—-]+$|^—$/.test(String(r[i]))));
  const line = (r) =>
    r
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

/**
 * Runs a bench's async main: prints a crash (redacted) and exits 1; otherwise exits 0,
 * whatever the targets said.
 */
export function main(fn) {
  Promise.resolve()
    .then(fn)
    .then(
      () => process.exit(0),
      (error) => {
        console.error(
          `bench crashed: ${redact(error?.stack && !(error instanceof CommandFailed) ? error.stack : (error?.message ?? String(error)))}`,
        );
        process.exit(1);
      },
    );
}
