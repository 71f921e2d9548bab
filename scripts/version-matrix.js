#!/usr/bin/env node
// `npm run test:versions`: the version suite on every supported PostgreSQL major. For each one
// it fetches the embedded build into .cache/pg-versions/<major>/ (once; scripts/pg-versions.js),
// then runs the test files below with PGSTORE_TEST_PG_ROOT pointing at it: the suite's global
// setup (test/helpers/global-setup.ts) starts that build on a free loopback port, so every file
// runs on it. A table of results at the end; exit 1 when any major fails.
//
//   node scripts/version-matrix.js [--majors 14,17] [vitest file filters...]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuild, PINNED } from './pg-versions.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(ROOT, '.cache', 'pg-versions');

/**
 * The version suite: setup, migrate (pgstore's set and an application's), seed, every store,
 * hosts, health, backup's client check. Each file runs its own database on the matrix server.
 */
export const SUITE = [
  'test/e2e/server-versions.test.ts',
  'test/e2e/setup-reset.test.ts',
  'test/e2e/setup-app-role-hosts.test.ts',
  'test/e2e/migrate.test.ts',
  'test/e2e/migrate-sets.test.ts',
  'test/e2e/seed.test.ts',
  'test/e2e/hosts.test.ts',
  'test/e2e/health.test.ts',
  'test/e2e/health-failures.test.ts',
  'test/integration/connect.test.ts',
  'test/integration/bulk-load.test.ts',
  'test/integration/store-users.test.ts',
  'test/integration/store-sessions.test.ts',
  'test/integration/store-credentials.test.ts',
  'test/integration/store-external-logins.test.ts',
  'test/integration/store-nonces.test.ts',
  'test/integration/store-profiles.test.ts',
  'test/integration/store-roles.test.ts',
  'test/integration/store-tenants.test.ts',
  'test/integration/store-memberships.test.ts',
  'test/integration/store-apps.test.ts',
  'test/integration/store-app-keys.test.ts',
  'test/integration/store-user-apps.test.ts',
  'test/integration/store-branches.test.ts',
  'test/integration/store-auth-transaction.test.ts',
  'test/integration/store-hosts-events.test.ts',
  'test/integration/store-hosts-reads.test.ts',
  'test/integration/store-hosts-snapshots.test.ts',
];

function parseArgs(argv) {
  let majors = Object.keys(PINNED).map(Number);
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--majors') majors = argv[++i].split(',').map(Number);
    else if (argv[i].startsWith('--majors=')) majors = argv[i].slice(9).split(',').map(Number);
    else files.push(argv[i]);
  }
  for (const m of majors)
    if (!(m in PINNED)) throw new Error(`unknown major ${m}; known: ${Object.keys(PINNED).join(', ')}`);
  return { majors, files: files.length ? files : SUITE };
}

/** Runs the suite on one build; returns counts and the failed files' names. */
function runSuite(major, root, files, logDir) {
  const report = join(logDir, `${major}.json`);
  rmSync(report, { force: true });
  const started = Date.now();
  const env = { ...process.env, PGSTORE_TEST_PG_MAJOR: String(major) };
  if (root) env.PGSTORE_TEST_PG_ROOT = root;
  else delete env.PGSTORE_TEST_PG_ROOT;
  const run = spawnSync(
    'npx',
    ['vitest', 'run', ...files, '--reporter=dot', '--reporter=json', `--outputFile.json=${report}`],
    {
      cwd: ROOT,
      stdio: 'inherit',
      env,
    },
  );
  const seconds = (Date.now() - started) / 1000;
  if (!existsSync(report))
    return {
      seconds,
      passed: 0,
      failed: 0,
      skipped: 0,
      failedFiles: ['(no report: vitest did not run)'],
      code: run.status,
    };
  const json = JSON.parse(readFileSync(report, 'utf8'));
  const failedFiles = json.testResults.filter((r) => r.status !== 'passed').map((r) => r.name.replace(ROOT, ''));
  return {
    seconds,
    passed: json.numPassedTests,
    failed: json.numFailedTests + (json.numRuntimeErrorTestSuites ?? 0),
    skipped: json.numPendingTests + json.numTodoTests,
    failedFiles,
    code: run.status,
  };
}

function table(rows) {
  const head = ['PostgreSQL', 'build', 'fetch s', 'tests s', 'passed', 'failed', 'skipped', 'result'];
  const lines = [
    head,
    ...rows.map((r) =>
      [
        r.major,
        r.version,
        r.fetched.toFixed(1),
        r.seconds.toFixed(1),
        r.passed,
        r.failed,
        r.skipped,
        r.ok ? 'ok' : 'FAIL',
      ].map(String),
    ),
  ];
  const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines
    .map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const { majors, files } = parseArgs(process.argv.slice(2));
const logDir = join(CACHE, 'reports');
mkdirSync(logDir, { recursive: true });
const started = Date.now();
const rows = [];
for (const major of majors) {
  console.log(`\n=== PostgreSQL ${major} ===`);
  let build;
  try {
    build = ensureBuild(major, CACHE, (m) => console.log(m));
  } catch (error) {
    rows.push({
      major,
      version: PINNED[major],
      fetched: 0,
      seconds: 0,
      passed: 0,
      failed: 0,
      skipped: 0,
      ok: false,
      failedFiles: [`fetch: ${error.message}`],
    });
    continue;
  }
  const result = runSuite(major, build.root, files, logDir);
  rows.push({
    major,
    version: build.version,
    fetched: build.fetchedSeconds,
    ...result,
    ok: result.code === 0 && result.failed === 0,
  });
}
console.log(
  `\nVersion matrix (${files.length} test files per major, ${((Date.now() - started) / 1000).toFixed(0)} s in all):\n`,
);
console.log(table(rows));
for (const r of rows) if (!r.ok) console.log(`\nPostgreSQL ${r.major} failed in: ${r.failedFiles.join(', ')}`);
process.exit(rows.every((r) => r.ok) ? 0 : 1);
