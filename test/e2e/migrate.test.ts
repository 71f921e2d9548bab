/**
 * `pgstore migrate` (the app set, on databases without pgstore's schema): exit codes and
 * messages of up, status, verify, down, --strict, the lock and --wait. The concurrent runs are
 * separate processes (the binary); the other cases run the CLI's entry in-process
 * (test/helpers/cli-in-process.ts): same parsing, output and exit codes, no node start-up each.
 */
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

type Db = TestDatabase & { drop(): Promise<void> };
const dirs: string[] = [];
const databases: Db[] = [];

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-mig-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const up = (sql: string, down = '', opts = '') => `-- migrate:up${opts}\n${sql}\n\n-- migrate:down\n${down}\n`;

async function freshDb(): Promise<Db> {
  const db = await createTestDatabase('template0');
  databases.push(db);
  return db;
}

// --set app: these tests are about the runner, on databases without pgstore's own schema.
const migrate = (db: TestDatabase, args: string[], run = runCliInProcess) =>
  run(['migrate', ...args, '--set', 'app'], { env: cleanEnv({ DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1' }) });

afterAll(async () => {
  for (const db of databases) await db.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('pgstore migrate', () => {
  let db: Db;
  beforeEach(async () => {
    db = await freshDb();
  });

  it('4 concurrent runs apply each migration exactly once, a transaction:false one included, and all exit 0', async () => {
    const dir = migrationsDir({
      '20200101000000_log.sql': up('create table log (what text); select pg_sleep(0.3);', 'drop table log;'),
      '20200102000000_outside_tx.sql': up(
        "insert into log values ('outside');",
        "delete from log where what = 'outside';",
        ' transaction:false',
      ),
      '20200103000000_inside_tx.sql': up(
        "insert into log values ('inside');",
        "delete from log where what = 'inside';",
      ),
    });
    const runs = await Promise.all([1, 2, 3, 4].map(() => migrate(db, ['up', '--migrations-dir', dir], runCli)));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const rows = await db.sql<
      { what: string; n: number }[]
    >`select what, count(*)::int as n from log group by what order by what`;
    expect(rows).toEqual([
      { what: 'inside', n: 1 },
      { what: 'outside', n: 1 },
    ]);
    const applied = runs.map((r) => (r.stdout.match(/\.sql/g) ?? []).length);
    expect(applied.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('status --json lists applied and pending; --exit-code says when something is pending', async () => {
    const dir = migrationsDir({ '20200101000000_a.sql': up('create table a (x int);', 'drop table a;') });
    let status = await migrate(db, ['status', '--json', '--migrations-dir', dir]);
    expect(JSON.parse(status.stdout)).toMatchObject({
      applied: [],
      pending: [{ set: 'app', version: '20200101000000', name: 'a', appliedAt: null }],
      drift: [],
    });
    expect((await migrate(db, ['status', '--exit-code', '--migrations-dir', dir])).code).toBe(1);
    expect((await migrate(db, ['up', '--migrations-dir', dir])).code).toBe(0);
    status = await migrate(db, ['status', '--json', '--exit-code', '--migrations-dir', dir]);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout);
    expect(parsed.applied).toHaveLength(1);
    expect(new Date(parsed.applied[0].appliedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('detects an applied file edited since: verify exits 1, up --strict refuses', async () => {
    const dir = migrationsDir({ '20200101000000_a.sql': up('create table a (x int);', 'drop table a;') });
    expect((await migrate(db, ['up', '--migrations-dir', dir])).code).toBe(0);
    appendFileSync(join(dir, '20200101000000_a.sql'), '-- edited\n');
    const status = await migrate(db, ['status', '--json', '--migrations-dir', dir]);
    expect(JSON.parse(status.stdout).drift).toEqual([
      {
        set: 'app',
        version: '20200101000000',
        filename: '20200101000000_a.sql',
        problem: 'edited',
        message: '20200101000000_a.sql (app set) was edited after it was applied',
      },
    ]);
    const verify = await migrate(db, ['verify', '--migrations-dir', dir]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/20200101000000_a.sql \(app set\) was edited/);
    expect(verify.stdout).not.toMatch(/verified/);
    expect((await migrate(db, ['verify', '--strict', '--migrations-dir', dir])).code).toBe(1);
    const strictUp = await migrate(db, ['up', '--strict', '--migrations-dir', dir]);
    expect(strictUp.code).toBe(2);
    expect(strictUp.stderr).toMatch(/edited after it was applied/);
  });

  it('--strict refuses a pending migration older than the newest applied one', async () => {
    const dir = migrationsDir({ '20200105000000_b.sql': up('create table b (x int);', 'drop table b;') });
    expect((await migrate(db, ['up', '--migrations-dir', dir])).code).toBe(0);
    writeFileSync(join(dir, '20200101000000_a.sql'), up('create table a (x int);', 'drop table a;'));
    const strict = await migrate(db, ['up', '--strict', '--migrations-dir', dir]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(
      /20200101000000_a.sql is pending but older than the newest applied migration 20200105000000/,
    );
    expect((await migrate(db, ['up', '--migrations-dir', dir])).code).toBe(0);
  });

  it('a failed migration names the file, the SQL error and the state of the database', async () => {
    const dir = migrationsDir({
      '20200101000000_ok.sql': up('create table ok (x int);', 'drop table ok;'),
      '20200102000000_broken.sql': up('create table broken (x int);\ncreate tabel oops (y int);', 'drop table broken;'),
    });
    const run = await migrate(db, ['up', '--migrations-dir', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/migration 20200102000000_broken.sql \(app set\) failed to apply/);
    expect(run.stderr).toMatch(/syntax error at or near "tabel"/);
    expect(run.stderr).toMatch(/rolled back as a whole.*1 migration applied before it \(20200101000000_ok.sql\)/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const tables = await db.sql`select tablename from pg_tables where tablename in ('ok', 'broken')`;
    expect(tables.map((t) => t.tablename)).toEqual(['ok']);
  });

  it('refuses malformed files before touching the database', async () => {
    const twoUps = migrationsDir({
      '20200101000000_a.sql':
        '-- migrate:up\ncreate table a (x int);\n-- migrate:up\ncreate table b (x int);\n-- migrate:down\n',
    });
    let run = await migrate(db, ['up', '--migrations-dir', twoUps]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/2 '-- migrate:up' sections/);
    const dupes = migrationsDir({ '20200101000000_a.sql': up('select 1;'), '20200101000000_b.sql': up('select 2;') });
    run = await migrate(db, ['up', '--migrations-dir', dupes]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/version 20200101000000 is used by/);
    const tables = await db.sql`select 1 from pg_tables where tablename in ('a', 'b')`;
    expect(tables).toHaveLength(0);
    run = await migrate(db, ['up', '--migrations-dir', join(tmpdir(), 'no-such-migrations-dir')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/migrations folder not found/);
  });

  it('reports malformed files, not the server, while connecting; asks the server nothing (the lock stays free)', async () => {
    // The files are read while the connection is made (core/migrate/session.ts): their error
    // still wins over an unreachable server's, and no query (the lock's try) goes out before them.
    const dupes = migrationsDir({ '20200101000000_a.sql': up('select 1;'), '20200101000000_b.sql': up('select 2;') });
    let run = await runCliInProcess(['migrate', 'up', '--set', 'app', '--migrations-dir', dupes], {
      env: cleanEnv({ DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x', DBMATE_NO_DUMP_SCHEMA: '1' }),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/version 20200101000000 is used by/);
    expect(run.stderr).not.toMatch(/refused/);
    run = await migrate(db, ['up', '--migrations-dir', dupes]);
    expect(run.code).toBe(2);
    const [lock] = await db.sql`select pg_try_advisory_lock(hashtextextended('pgstore:migrate', 0)) as free`;
    expect(lock?.free).toBe(true);
    await db.sql`select pg_advisory_unlock(hashtextextended('pgstore:migrate', 0))`;
  });

  it('waits for the migration lock, then gives up with exit 3; --no-lock does not wait', async () => {
    const dir = migrationsDir({ '20200101000000_a.sql': up('create table a (x int);', 'drop table a;') });
    const holder = await db.sql.reserve();
    try {
      await holder`select pg_advisory_lock(hashtextextended('pgstore:migrate', 0))`;
      const run = await migrate(db, ['up', '--migration-lock-timeout', '1', '--migrations-dir', dir]);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/the migration lock on database '.*' is held by server process \d+/);
      expect((await migrate(db, ['up', '--no-lock', '--migrations-dir', dir])).code).toBe(0);
    } finally {
      holder.release();
    }
  });

  it('down --steps and --to roll back, asking first', async () => {
    const dir = migrationsDir({
      '20200101000000_a.sql': up('create table a (x int);', 'drop table a;'),
      '20200102000000_b.sql': up('create table b (x int);', 'drop table b;'),
      '20200103000000_c.sql': up('create table c (x int);', 'drop table c;'),
    });
    const applied = await migrate(db, ['up', '--migrations-dir', dir]);
    expect(applied.code).toBe(0);
    // "on database …": a set is also called pgstore, so the database is named as one.
    expect(applied.stdout).toMatch(new RegExp(`^Applied 3 migrations on database ${db.name} in [\\d.]+ s:$`, 'm'));
    const unconfirmed = await migrate(db, ['down', '--migrations-dir', dir]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/no terminal.*\n.*--yes/);
    const one = await migrate(db, ['down', '--yes', '--migrations-dir', dir]);
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/Rolled back 1 migration[\s\S]*20200103000000_c.sql/);
    expect(one.stdout).toMatch(new RegExp(`^Rolled back 1 migration on database ${db.name} in [\\d.]+ s:$`, 'm'));
    expect((await migrate(db, ['down', '--to', '20200101000000', '--yes', '--migrations-dir', dir])).code).toBe(0);
    const left =
      await db.sql`select tablename from pg_tables where schemaname = 'public' and tablename not in ('schema_migrations', 'pgstore_schema_migrations') order by 1`;
    expect(left.map((t) => t.tablename)).toEqual(['a']);
    const tooMany = await migrate(db, ['down', '--steps', '5', '--yes', '--migrations-dir', dir]);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/only 1 migration is applied/);
  });

  it('--wait fails at once on a bad password, and gives up on an unreachable server after the timeout', async () => {
    const url = new URL(db.url);
    url.password = 'not-the-password';
    let started = Date.now();
    let run = await runCliInProcess(['migrate', '--wait', '--wait-timeout', '30'], {
      env: cleanEnv({ DATABASE_URL: url.toString() }),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/password authentication failed/);
    expect(Date.now() - started).toBeLessThan(5000);
    started = Date.now();
    run = await runCliInProcess(['migrate', '--wait', '--wait-timeout', '1'], {
      env: cleanEnv({ DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x' }),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/connection refused \(still failing after waiting 1 s\)/);
    // Refused at once each time: only the wait (tries every 500 ms) makes it last the second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('new creates a file with up and down sections', async () => {
    const dir = migrationsDir({});
    const run = await runCliInProcess(['migrate', 'new', 'Add user avatar', '--migrations-dir', dir], {
      env: cleanEnv(),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Created .*\/\d{14}_add_user_avatar\.sql/);
  });
});
