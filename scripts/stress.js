#!/usr/bin/env node
// `npm run stress`: the stress tier with its long rounds, then one line per promise with the
// rounds run and the violations found (which must be 0). Exit 1 on any violation or failure.
// PGSTORE_STRESS_ROUNDS=N overrides every promise's round count.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'pgstore-stress-'));
const report = join(dir, 'report.ndjson');
const extra = process.argv.slice(2);
const started = Date.now();
// Files are chosen by filter, not --dir: with --dir test/stress, vitest looks for the config's
// include (test/**/*.test.ts) under test/stress and finds nothing. Extra arguments that are
// not options (file filters) replace the default filter. The e2e files listed run a matrix of
// cases: a bounded subset in `npm test`, every case here (STRESS / matrix() in harness.ts).
const MATRIX_FILES = ['test/e2e/restore-failures.test.ts', 'test/e2e/sigterm.test.ts'];
const filters = extra.some((a) => !a.startsWith('-')) ? [] : ['test/stress/', ...MATRIX_FILES];
const run = spawnSync('npx', ['vitest', 'run', ...filters, '--testTimeout', '0', '--hookTimeout', '120000', ...extra], {
  stdio: 'inherit',
  env: { ...process.env, PGSTORE_STRESS: '1', PGSTORE_STRESS_REPORT: report },
});
const rows = existsSync(report)
  ? readFileSync(report, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
rmSync(dir, { recursive: true, force: true });
const width = Math.max(7, ...rows.map((r) => r.promise.length));
console.log(`\n${'promise'.padEnd(width)}  ${'rounds'.padStart(7)}  violations`);
for (const r of rows) console.log(`${r.promise.padEnd(width)}  ${String(r.rounds).padStart(7)}  ${r.violations}`);
const violations = rows.reduce((n, r) => n + r.violations, 0);
const total = rows.reduce((n, r) => n + r.rounds, 0);
console.log(
  `\n${rows.length} promises, ${total} rounds, ${violations} violations, ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(run.status === 0 && violations === 0 && rows.length > 0 ? 0 : 1);
