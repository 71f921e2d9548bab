/**
 * The two migration sets: pgstore's own schema and the application's dbmate migrations, side
 * by side; a dbmate project adopted with zero flags; a database migrated before sets upgraded.
 * The binary runs in the project's folder where it must find the migrations by itself; the
 * other runs are the CLI's entry in-process (test/helpers/cli-in-process.ts), given the folder.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dbmateBinary } from '../../src/tools/dbmate.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { emptyDatabases } from '../helpers/db.js';
import { MIGRATION_COUNT } from '../helpers/migrations.js';

const dirs: string[] = [];
const emptyDatabase = emptyDatabases();
const PGSTORE_MIGRATIONS = fileURLToPath(new URL('../../migrations/', import.meta.url));

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A project folder with db/migrations holding `files`. */
function project(files: Record<string, string>, sub = 'db/migrations'): string {
  const root = mkdtempSync(join(tmpdir(), 'pgstore-proj-'));
  dirs.push(root);
  mkdirSync(join(root, sub), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, sub, name), text);
  return root;
}

const up = (sql: string, down = '') => `-- migrate:up\n${sql}\n\n-- migrate:down\n${down}\n`;

/** The real dbmate, as a project using dbmate runs it (its own config from the environment). */
function dbmate(cwd: string, env: Record<string, string>, ...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(dbmateBinary(), ['--no-dump-schema', ...args], { cwd, env: cleanEnv(env), encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const pgstore = (cwd: string, env: Record<string, string>, ...args: string[]) =>
  runCli(args, { cwd, env: cleanEnv(env) });
/**
 * In-process, the project's folders named by DBMATE_* variables: no working folder in-process
 * (the worker's is the repository, where a default ./db/schema.sql would be written).
 */
const pgstoreIn = (root: string, env: Record<string, string>, ...args: string[]) =>
  runCliInProcess(args, {
    env: cleanEnv({
      DBMATE_MIGRATIONS_DIR: join(root, 'db/migrations'),
      DBMATE_SCHEMA_FILE: join(root, 'db/schema.sql'),
      ...env,
    }),
  });

function withSearchPath(url: string, path: string): string {
  const u = new URL(url);
  u.searchParams.set('search_path', path);
  u.searchParams.set('sslmode', 'disable');
  return u.toString();
}

describe('migration sets', () => {
  it('adopts a dbmate project whose history is in its own schema, with no flags, and stays interchangeable with dbmate', async () => {
    const db = await emptyDatabase();
    const url = withSearchPath(db.url, 'dbmate,app');
    await db.sql`create schema app`;
    const root = project({
      '0001-init.sql': up('create table app.widgets (id int primary key);', 'drop table app.widgets;'),
      '0002_more.sql': up('alter table app.widgets add column name text;', 'alter table app.widgets drop column name;'),
      'schema.sql': '-- dbmate dump kept next to the migrations\ncreate table nonsense (;\n',
      'README.md': 'notes',
    });
    const env = { DATABASE_URL: url };
    expect(dbmate(root, env, 'migrate').code).toBe(0);
    expect((await db.sql`select to_regclass('dbmate.schema_migrations')::text as t`)[0]!.t).toBe(
      'dbmate.schema_migrations',
    );

    const status = await pgstore(root, env, 'migrate', 'status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout);
    expect(
      parsed.applied.filter((m: { set: string }) => m.set === 'app').map((m: { version: string }) => m.version),
    ).toEqual(['0001', '0002']);
    expect(parsed.pending.filter((m: { set: string }) => m.set === 'app')).toEqual([]);
    expect(parsed.sets.find((s: { name: string }) => s.name === 'app').table).toBe('"dbmate"."schema_migrations"');
    expect(parsed.drift).toEqual([]);

    // A new file from `migrate new` lands where `migrate up` looks; pgstore applies it, dbmate agrees.
    const created = await pgstore(root, env, 'migrate', 'new', 'add price');
    expect(created.code, created.stderr).toBe(0);
    const file = readdirSync(join(root, 'db/migrations')).find((f) => f.endsWith('_add_price.sql'))!;
    writeFileSync(
      join(root, 'db/migrations', file),
      up('alter table app.widgets add column price int;', 'alter table app.widgets drop column price;'),
    );
    const run = await pgstore(root, env, 'migrate', 'up', '--json');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.applied.filter((m: { set: string }) => m.set === 'pgstore')).toHaveLength(MIGRATION_COUNT);
    expect(
      result.applied.filter((m: { set: string }) => m.set === 'app').map((m: { filename: string }) => m.filename),
    ).toEqual([file]);
    const dbmateStatus = dbmate(root, env, 'status');
    expect(dbmateStatus.out).toMatch(/Applied: 3\s+Pending: 0/);
    // pgstore's own objects stay in their schemas, not in the URL's first schema.
    const misplaced =
      await db.sql`select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'dbmate' and relname <> 'schema_migrations' and relkind = 'r'`;
    expect(misplaced).toEqual([]);
    expect((await db.sql`select count(*)::int as n from public.pgstore_schema_migrations`)[0]!.n).toBe(MIGRATION_COUNT);

    // And back: dbmate rolls back what pgstore applied; pgstore sees it.
    expect(dbmate(root, env, 'rollback').code).toBe(0);
    const after = JSON.parse((await pgstoreIn(root, env, 'migrate', 'status', '--json')).stdout);
    expect(after.pending.map((m: { set: string; name: string }) => `${m.set}:${m.name}`)).toEqual(['app:add_price']);
    const verify = await pgstoreIn(root, env, 'migrate', 'verify');
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).not.toMatch(/warning/);
  });

  it('reads DBMATE_MIGRATIONS_DIR and a schema-qualified DBMATE_MIGRATIONS_TABLE, like dbmate', async () => {
    const db = await emptyDatabase();
    const root = project({ '20240101000000_a.sql': up('create table a (x int);', 'drop table a;') }, 'sql/migs');
    const env = {
      DATABASE_URL: db.url,
      DBMATE_MIGRATIONS_DIR: 'sql/migs',
      DBMATE_MIGRATIONS_TABLE: 'history.migrations',
    };
    const run = await pgstore(root, env, 'migrate', '--set', 'app');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/20240101000000_a.sql \(app\)/);
    expect(await db.sql`select version from history.migrations`).toEqual([{ version: '20240101000000' }]);
    expect(dbmate(root, env, 'status').out).toMatch(/Applied: 1\s+Pending: 0/);
  });

  it('a failed down says the migration is still applied', async () => {
    const db = await emptyDatabase();
    const root = project({ '0001_a.sql': up('create table a (x int);', 'drop table a;\nselect 1/0;') });
    const env = { DATABASE_URL: db.url };
    expect((await pgstoreIn(root, env, 'migrate', '--set', 'app')).code).toBe(0);
    const down = await pgstoreIn(root, env, 'migrate', 'down', '--yes', '--set', 'app');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/division by zero/);
    expect(down.stderr).toMatch(/0001_a.sql is still applied/);
    expect(down.stderr).not.toMatch(/rolled back as a whole/);
    const status = JSON.parse((await pgstoreIn(root, env, 'migrate', 'status', '--json', '--set', 'app')).stdout);
    expect(status.applied.map((m: { version: string }) => m.version)).toEqual(['0001']);
  });

  it("upgrades a database migrated before sets: pgstore's rows move to their own table, the app's stay, nothing is lost or re-applied", async () => {
    const db = await emptyDatabase();
    // The layout the previous pgstore left: its own versions and the app's in public.schema_migrations,
    // extended with applied_at, sha256 and filename (built with the real dbmate, as that code did).
    const root = project({
      '20250101000000_app.sql': up('create table app_things (x int);', 'drop table app_things;'),
    });
    const legacy = { PGSTORE_DBMATE_URL: withSearchPath(db.url, 'public') };
    for (const dir of [PGSTORE_MIGRATIONS, join(root, 'db/migrations')]) {
      const r = spawnSync(
        dbmateBinary(),
        [
          '--env',
          'PGSTORE_DBMATE_URL',
          '--migrations-dir',
          dir,
          '--migrations-table',
          'public.schema_migrations',
          '--no-dump-schema',
          'migrate',
        ],
        { env: cleanEnv(legacy), encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
    }
    await db.sql.unsafe(
      `alter table public.schema_migrations add column applied_at timestamptz default now(), add column sha256 text, add column filename text`,
    );
    const own = readdirSync(PGSTORE_MIGRATIONS).filter((f) => f.endsWith('.sql'));
    for (const f of own) {
      const sha = createHash('sha256')
        .update(readFileSync(join(PGSTORE_MIGRATIONS, f)))
        .digest('hex');
      await db.sql`update public.schema_migrations set sha256 = ${sha}, filename = ${f}, applied_at = '2026-01-02T03:04:05Z' where version = ${f.split('_')[0]!}`;
    }
    const env = { DATABASE_URL: db.url };

    // Read-only commands already see the two sets, and write nothing.
    const status = await pgstoreIn(root, env, 'migrate', 'status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const before = JSON.parse(status.stdout);
    expect(before.pending).toEqual([]);
    expect(before.drift).toEqual([]);
    expect(before.applied.filter((m: { set: string }) => m.set === 'pgstore')).toHaveLength(MIGRATION_COUNT);
    expect((await db.sql`select to_regclass('public.pgstore_schema_migrations') as t`)[0]!.t).toBeNull();

    const run = await pgstoreIn(root, env, 'migrate', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ applied: [], upgradedRows: MIGRATION_COUNT });
    const moved = await db.sql<
      { version: string; sha256: string; applied_at: Date }[]
    >`select version, sha256, applied_at from public.pgstore_schema_migrations order by version`;
    expect(moved).toHaveLength(MIGRATION_COUNT);
    expect(moved.every((m) => m.sha256 && m.applied_at.toISOString() === '2026-01-02T03:04:05.000Z')).toBe(true);
    expect(await db.sql`select version from public.schema_migrations`).toEqual([{ version: '20250101000000' }]);
    const verify = await pgstoreIn(root, env, 'migrate', 'verify');
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).toBe('');
    const health = await pgstoreIn(root, env, 'health', '--json');
    const check = JSON.parse(health.stdout).checks.find((c: { name: string }) => c.name === 'migrations');
    expect(check).toMatchObject({
      status: 'ok',
      message: `pgstore: ${MIGRATION_COUNT} applied, none pending; app: 1 applied, none pending`,
    });
  });
});
