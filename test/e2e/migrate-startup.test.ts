/**
 * `migrate up` loads what it uses and nothing else (its start-up is most of pgstore's own cost
 * above dbmate's): no other command's module, no embedded-server code on a server URL, no
 * schema-dump code with --no-dump-schema, no lint code when nothing is pending. The binary runs
 * the CLI bundle (one file, dist/bundle/cli.cjs), in which each module reached by a dynamic
 * import() is wrapped in an init function named after its source file (esbuild's __esm): the
 * modules that ran are those functions that were called, as V8's coverage (NODE_V8_COVERAGE)
 * counts them.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

const root = mkdtempSync(join(tmpdir(), 'pgstore-startup-'));
const databases: Array<TestDatabase & { drop(): Promise<void> }> = [];

afterAll(async () => {
  for (const db of databases) await db.drop();
  rmSync(root, { recursive: true, force: true });
});

interface Coverage {
  result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
}

let runs = 0;
/** The source modules `migrate up args` ran ('core/migrate.js' for src/core/migrate.ts). */
async function migrateUp(url: string, args: string[]): Promise<string[]> {
  return (await functionsRun(url, args))
    .filter((name) => /^src\/.+\.ts$/.test(name))
    .map((name) => name.replace(/^src\//, '').replace(/\.ts$/, '.js'));
}

/** The names of the bundle's functions that `migrate up args` called. */
async function functionsRun(url: string, args: string[]): Promise<string[]> {
  const coverage = join(root, `coverage-${++runs}`);
  const result = await runCli(['migrate', 'up', '--no-dump-schema', ...args], {
    env: cleanEnv({ DATABASE_URL: url, NODE_V8_COVERAGE: coverage }),
  });
  expect(result.code, result.stderr).toBe(0);
  const scripts = readdirSync(coverage).flatMap(
    (f) => (JSON.parse(readFileSync(join(coverage, f), 'utf8')) as Coverage).result,
  );
  const ours = scripts.filter((s) => s.url.includes('/dist/'));
  expect(
    ours.map((s) => s.url.replace(/.*\/dist\//, 'dist/')),
    'the binary loads the bundle only',
  ).toEqual(['dist/bundle/cli.cjs']);
  return ours[0]!.functions.filter((f) => f.ranges[0]!.count > 0).map((f) => f.functionName);
}

const OTHER_COMMANDS = ['backup', 'restore', 'hosts', 'server', 'seed', 'setup', 'snapshot', 'health'].map(
  (c) => `commands/${c}.js`,
);

describe('migrate up start-up', () => {
  it('loads neither other commands, nor the embedded server, nor the dump, nor the linter when nothing is pending', async () => {
    const db = await createTestDatabase('template0');
    databases.push(db);
    const dir = join(root, 'migrations');
    mkdirSync(dir);
    writeFileSync(
      join(dir, '20240101000000_items.sql'),
      '-- migrate:up\ncreate table items (id bigint primary key);\n\n-- migrate:down\ndrop table items;\n',
    );

    const first = await migrateUp(db.url, ['--migrations-dir', dir]);
    expect(first).toContain('core/migrate/migrate.js'); // the hook sees the modules
    expect(first).toContain('core/migrate/lint.js'); // one pending file: linted
    for (const module of [...OTHER_COMMANDS, 'db/embedded.js', 'core/migrate/dump.js'])
      expect(first).not.toContain(module);

    const again = await migrateUp(db.url, ['--migrations-dir', dir]);
    expect(again).toContain('core/migrate/migrate.js');
    for (const module of [...OTHER_COMMANDS, 'db/embedded.js', 'core/migrate/dump.js', 'core/migrate/lint.js'])
      expect(again).not.toContain(module);
  });

  it("builds `up` alone of migrate's subcommands; a usage error's hint still searches them all", async () => {
    const db = await createTestDatabase('template0');
    databases.push(db);
    const called = await functionsRun(db.url, ['--set', 'pgstore']);
    expect(called).toContain('migrateCommand');
    expect(called).toContain('upCommand');
    for (const factory of ['down', 'status', 'verify', 'new', 'dump', 'lint', 'plan', 'diff'])
      expect(called, `${factory}Command`).not.toContain(`${factory}Command`);

    const misplaced = await runCli(['migrate', 'up', '--format', 'json'], { env: cleanEnv({ DATABASE_URL: db.url }) });
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toMatch(/^hint: --format is an option of `pgstore migrate status`/m);
    const stray = await runCli(['migrate', 'up', 'status'], { env: cleanEnv({ DATABASE_URL: db.url }) });
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/'status' must come right after 'pgstore migrate'/);
  });

  it('help without a command still lists every command', async () => {
    const result = await runCli(['--help'], { env: cleanEnv() });
    expect(result.code).toBe(0);
    for (const name of [
      'setup',
      'migrate',
      'reset',
      'seed',
      'hosts',
      'snapshot',
      'backup',
      'restore',
      'health',
      'server',
    ])
      expect(result.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
  });
});
