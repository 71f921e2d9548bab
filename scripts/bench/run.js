/**
 * `npm run bench [-- NAME...] [-- --runs N --warmup N]`
 *
 * Runs every scripts/bench/*.js (except this file and lib.js), one after another, in name
 * order. Words select benches by name (`startup` or `startup.js`); arguments starting with
 * `-` (and the value after `--runs`/`--warmup`) are passed to each bench. Exits non-zero if
 * a bench crashed or a name matched no bench; a MISS against a target is not a failure.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const NOT_BENCHES = new Set(['run.js', 'lib.js']);
const TAKES_VALUE = new Set(['--runs', '--warmup']);

const available = readdirSync(HERE)
  .filter((f) => f.endsWith('.js') && !NOT_BENCHES.has(f))
  .sort()
  .map((f) => basename(f, '.js'));

const filters = [];
const passThrough = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === '-h' || arg === '--help') {
    console.log(`usage: npm run bench [-- [NAME...] [--runs N] [--warmup N]]\nbenches: ${available.join(', ')}`);
    process.exit(0);
  }
  if (arg.startsWith('-')) {
    passThrough.push(arg);
    if (TAKES_VALUE.has(arg) && i + 1 < argv.length) passThrough.push(argv[++i]);
  } else {
    filters.push(basename(arg).replace(/\.js$/, ''));
  }
}

const unknown = filters.filter((f) => !available.includes(f));
if (unknown.length > 0) {
  console.error(
    `error: no bench named ${unknown.map((u) => `'${u}'`).join(', ')}; benches: ${available.join(', ') || '(none)'}`,
  );
  process.exit(2);
}
const selected = filters.length > 0 ? available.filter((name) => filters.includes(name)) : available;

/** Runs one bench with inherited stdio; SIGINT/SIGTERM sent to this runner go to it too. */
function runBench(name) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(HERE, `${name}.js`), ...passThrough], { stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const done = (outcome) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(outcome);
    };
    child.once('error', (error) => done({ status: null, signal: null, error }));
    child.once('exit', (status, signal) => done({ status, signal, error: undefined }));
  });
}

const outcomes = [];
let interrupted = false;
process.on('SIGINT', () => (interrupted = true));
process.on('SIGTERM', () => (interrupted = true));
for (const name of selected) {
  console.log(`\n=== bench: ${name} ===`);
  const start = performance.now();
  const result = await runBench(name);
  const seconds = (performance.now() - start) / 1000;
  const ok = !result.error && result.status === 0;
  const why = result.error
    ? result.error.message
    : result.signal
      ? `killed by ${result.signal}`
      : `exit code ${result.status}`;
  outcomes.push({ name, ok, seconds, why });
  if (interrupted || result.signal === 'SIGINT' || result.status === 130) break;
}

console.log('\n=== benches ===');
for (const o of outcomes)
  console.log(
    `${o.ok ? 'ok    ' : 'FAILED'}  ${o.name.padEnd(12)} ${o.seconds.toFixed(1)} s${o.ok ? '' : `  (${o.why})`}`,
  );
const failed = outcomes.filter((o) => !o.ok);
process.exit(failed.length > 0 || outcomes.length < selected.length ? 1 : 0);
