/**
 * The two migration sets as a CI user meets them: an app's migrations next to pgstore's with
 * no warnings anywhere (health, status, verify, dump), dbmate's schema file written after `up`
 * and `down`, `plan` labelling each pending file with its set, and `new` writing where `up` reads.
 * What the binary must find in its working folder by itself (./db/migrations, ./db/schema.sql,
 * relative DBMATE_* paths) runs the binary there (runCli's cwd); the rest runs the CLI's entry
 * in-process (test/helpers/cli-in-process.ts) with absolute folders.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { emptyDatabases } from '../helpers/db.js';
import { MIGRATION_COUNT } from '../helpers/migrations.js';

const dirs: string[] = [];
const emptyDatabase = emptyDatabases();

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const up = (sql: string, down: string) => `-- migrate:up\n${sql}\n\n-- migrate:down\n${down}\n`;
const TWO = {
  '20240101000000_items.sql': up(
    'create table items (id bigint primary key, name text not null);',
    'drop table items;',
  ),
  '20240102000000_price.sql': up('alter table items add column price numeric;', 'alter table items drop column price;'),
};

/** A project folder with `files` in `sub` (relative to the project). */
function project(files: Record<string, string>, sub: string): string {
  const root = mkdtempSync(join(tmpdir(), 'pgstore-ci-'));
  dirs.push(root);
  mkdirSync(join(root, sub), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, sub, name), text);
  return root;
}

const pgstore = (cwd: string, env: Record<string, string>, ...args: string[]) =>
  runCli(args, { cwd, env: cleanEnv(env), timeoutMs: 120_000 });
/** In-process: the worker's folder is the repository's, which has no ./db/migrations (checked below). */
const pgstoreIn = (env: Record<string, string>, ...args: string[]) => runCliInProcess(args, { env: cleanEnv(env) });
const migrationsCheck = (stdout: string) =>
  JSON.parse(stdout).checks.find((c: { name: string }) => c.name === 'migrations');

describe('migration sets in CI', () => {
  it("an app's migrations applied with --migrations-dir live next to pgstore's with no warnings, and every command names their set", async () => {
    const db = await emptyDatabase();
    const root = project(TWO, 'sql');
    const sql = join(root, 'sql');
    const env = { DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1' };
    expect(existsSync('db/migrations')).toBe(false);
    expect((await pgstoreIn(env, 'migrate')).code).toBe(0); // pgstore's set (no ./db/migrations here)
    const applied = await pgstoreIn(env, 'migrate', '--migrations-dir', sql, '--json');
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).applied.map((m: { set: string }) => m.set)).toEqual(['app', 'app']);

    // From a folder without the app's files and no flag (a CI step that only checks): the app's rows are counted, not flagged.
    for (const flags of [[], ['--migrations-dir', sql]]) {
      const health = await pgstoreIn(env, 'health', '--json', ...flags);
      expect(health.stderr).toBe('');
      const check = migrationsCheck(health.stdout);
      expect(check.status).toBe('ok');
      expect(check.message).toMatch(new RegExp(`^pgstore: ${MIGRATION_COUNT} applied, none pending; app: 2 applied`));
      const status = await pgstoreIn(env, 'migrate', 'status', '--json', '--exit-code', ...flags);
      expect(status.code, status.stderr).toBe(0);
      const parsed = JSON.parse(status.stdout);
      expect(
        parsed.applied.filter((m: { set: string }) => m.set === 'app').map((m: { version: string }) => m.version),
      ).toEqual(['20240101000000', '20240102000000']);
      expect(parsed.applied.every((m: { set: string }) => m.set === 'pgstore' || m.set === 'app')).toBe(true);
      const verify = await pgstoreIn(env, 'migrate', 'verify', '--json', ...flags);
      expect(verify.code, verify.stderr).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, problems: [], warnings: [], drift: [] });
    }
    // The dump keeps the app's versions too, even run where its folder is not.
    const dump = await pgstoreIn(env, 'migrate', 'dump', '-o', join(root, 'structure.sql'));
    expect(dump.code, dump.stderr).toBe(0);
    const text = readFileSync(join(root, 'structure.sql'), 'utf8');
    expect(text).toMatch(
      /INSERT INTO "public"\."schema_migrations" \(version\) VALUES\n {4}\('20240101000000'\),\n {4}\('20240102000000'\);/,
    );
    expect(text).toContain('INSERT INTO "public"."pgstore_schema_migrations"');
  });

  it("writes dbmate's schema file after up and down (DBMATE_SCHEMA_FILE, default ./db/schema.sql) unless DBMATE_NO_DUMP_SCHEMA or --no-dump-schema", async () => {
    const db = await emptyDatabase();
    const root = project(TWO, 'db/migrations');
    const env = { DATABASE_URL: db.url };
    const first = await pgstore(root, env, 'migrate', 'up', '--json');
    expect(first.code, first.stderr).toBe(0);
    const schemaFile = join(root, 'db/schema.sql');
    expect(JSON.parse(first.stdout).schemaFile).toBe(schemaFile);
    const dumped = readFileSync(schemaFile, 'utf8');
    expect(dumped).toMatch(/CREATE TABLE public\.items/);
    expect(dumped).toMatch(/\('20240102000000'\);/);

    const down = await pgstore(
      root,
      { ...env, DBMATE_SCHEMA_FILE: 'schema/structure.sql' },
      'migrate',
      'down',
      '--yes',
    );
    expect(down.code, down.stderr).toBe(0);
    const custom = readFileSync(join(root, 'schema/structure.sql'), 'utf8');
    expect(custom).not.toMatch(/'20240102000000'/);
    expect(custom).toMatch(/\('20240101000000'\);/);

    // Turned off, the same file (named, in-process) is not written.
    rmSync(schemaFile);
    const named = { ...env, DBMATE_MIGRATIONS_DIR: join(root, 'db/migrations'), DBMATE_SCHEMA_FILE: schemaFile };
    expect((await pgstoreIn({ ...named, DBMATE_NO_DUMP_SCHEMA: 'true' }, 'migrate', 'up')).code).toBe(0);
    expect((await pgstoreIn(named, 'migrate', 'down', '--yes', '--no-dump-schema')).code).toBe(0);
    expect(existsSync(schemaFile)).toBe(false);
    // pgstore's own set alone is not a dbmate project's run: no file.
    expect((await pgstoreIn(named, 'migrate', 'up', '--set', 'pgstore')).code).toBe(0);
    expect(existsSync(schemaFile)).toBe(false);
  });

  it("plan lists pending files of both sets, pgstore's first, each labelled with its set (JSON and text)", async () => {
    const db = await emptyDatabase();
    const root = project({ '20240101000000_items.sql': TWO['20240101000000_items.sql'] }, 'db/migrations');
    const env = { DATABASE_URL: db.url, DBMATE_MIGRATIONS_DIR: join(root, 'db/migrations') };
    const plan = await pgstoreIn(env, 'migrate', 'plan', '--json');
    expect(plan.code, plan.stderr).toBe(0);
    const sets = JSON.parse(plan.stdout).pending.map((p: { set: string }) => p.set);
    expect(sets).toEqual([...Array(MIGRATION_COUNT).fill('pgstore'), 'app']);
    const text = await pgstoreIn(env, 'migrate', 'plan');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^20260101000000_pgstore_metadata\.sql \(pgstore set, in a transaction\)$/m);
    expect(text.stdout).toMatch(/^20240101000000_items\.sql \(app set, in a transaction\)$/m);
  });

  it("dbmate's sessions (--engine dbmate) get lc_messages=C when the user may set it, so that a lock timeout is recognised by its English message", async () => {
    const db = await emptyDatabase();
    await db.sql.unsafe(`alter database "${db.name}" set lc_messages = 'POSIX'`);
    const root = project(
      { '0001_lc.sql': up("create table lc as select current_setting('lc_messages') as v;", 'drop table lc;') },
      'db/migrations',
    );
    const run = await pgstoreIn(
      { DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1', DBMATE_MIGRATIONS_DIR: join(root, 'db/migrations') },
      'migrate',
      'up',
      '--set',
      'app',
      '--engine',
      'dbmate',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(await db.sql`select v from lc`).toEqual([{ v: 'C' }]);
  });

  it('new and up use the same folder by default: DBMATE_MIGRATIONS_DIR, else ./db/migrations', async () => {
    for (const [env, sub] of [
      [{}, 'db/migrations'],
      [{ DBMATE_MIGRATIONS_DIR: 'database/changes' }, 'database/changes'],
    ] as const) {
      // A database each: `migrate new` names files by the second, so both files of one second
      // would share a version, and the second would count as applied already.
      const db = await emptyDatabase();
      const root = mkdtempSync(join(tmpdir(), 'pgstore-ci-new-'));
      dirs.push(root);
      const runEnv = { DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1', ...env };
      const created = await pgstore(root, runEnv, 'migrate', 'new', `create ${sub.replace('/', '_')}`, '--json');
      expect(created.code, created.stderr).toBe(0);
      const path = JSON.parse(created.stdout).path as string;
      expect(path.startsWith(join(root, sub))).toBe(true);
      const table = `t_${sub.replace('/', '_')}`;
      writeFileSync(path, up(`create table ${table} (id bigint);`, `drop table ${table};`));
      const run = await pgstore(root, runEnv, 'migrate', 'up', '--json');
      expect(run.code, run.stderr).toBe(0);
      expect(
        JSON.parse(run.stdout)
          .applied.filter((m: { set: string }) => m.set === 'app')
          .map((m: { filename: string }) => join(root, sub, m.filename)),
      ).toEqual([path]);
      expect(readdirSync(join(root, sub))).toHaveLength(1);
    }
  });
});
