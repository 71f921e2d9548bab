/**
 * pgstore's own set, applied by pgstore on its migration session (core/migrate/apply-direct.ts)
 * rather than by a dbmate process: the same schema as dbmate makes from the same files, each
 * file with its history row and checksum or nothing of it, lock timeouts retried, an invalid
 * index of a failed CREATE INDEX CONCURRENTLY dropped, a connection lost mid-file leaving no
 * trace. The runner is driven here on folders of the test's own (a history table of its own),
 * on a real session made as `migrate up` makes it; the blockers are connections of the test.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileNeedingDbmate, runSetDirect, runsDirect } from '../../src/core/migrate/apply-direct.js';
import type { ApplyReport } from '../../src/core/migrate/apply.js';
import { diffSchema } from '../../src/core/migrate/diff.js';
import { readMigrations } from '../../src/core/migrate/files.js';
import { migrateUp, openMigrationSession } from '../../src/core/migrate/migrate.js';
import type { MigrationSet } from '../../src/core/migrate/sets.js';
import { MigrationFailedError } from '../../src/errors.js';
import { ensureMigrationLog, PGSTORE_TABLE } from '../../src/store/admin/index.js';
import { dbmateBinary } from '../../src/tools/dbmate.js';
import { cleanEnv } from '../helpers/cli.js';
import { coreOptions } from '../helpers/core-options.js';
import { emptyDatabases, type TestDatabase } from '../helpers/db.js';
import { blocker, releaseOnceTimedOut } from '../helpers/lock-blocker.js';

const dirs: string[] = [];
const emptyDatabase = emptyDatabases();
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-direct-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const file = (up: string, down = '', upOptions = '') =>
  `-- migrate:up${upOptions}\n${up}\n\n-- migrate:down\n${down}\n`;
const TABLE = { schema: 'public', name: 'direct_migrations' };

/** Runs the direct runner on `dir` as pgstore's set would run, recording in TABLE. */
async function runDirect(
  db: TestDatabase,
  dir: string,
  options: {
    lockTimeoutMs?: number;
    retries?: number;
    statementTimeoutMs?: number;
    command?: 'migrate' | 'rollback';
  } = {},
) {
  const session = await openMigrationSession({ ...coreOptions(db.url), set: 'pgstore' });
  const report: ApplyReport = { retries: [], droppedInvalidIndexes: [] };
  try {
    const [exists] = await session.sql`select to_regclass('public.direct_migrations') is not null as yes`;
    if (!exists?.yes) await ensureMigrationLog(session.sql, TABLE);
    const files = readMigrations(dir).filter((f) => f.version >= (options.from ?? ''));
    const set: MigrationSet = { ...session.sets[0]!, dir, files, table: TABLE };
    const command = options.command ?? 'migrate';
    const run = await runSetDirect(
      session,
      set,
      command,
      command === 'migrate' ? files : [...files].reverse(),
      {
        ...coreOptions(db.url),
        pgLockTimeoutMs: options.lockTimeoutMs,
        retries: options.retries ?? 0,
        statementTimeoutMs: options.statementTimeoutMs,
      },
      report,
      async () => undefined,
    );
    return { ...run, report };
  } finally {
    await session.close();
  }
}

const rows = async (db: TestDatabase) =>
  await db.sql<{ version: string; sha256: string | null; filename: string | null }[]>`
    select version, sha256, filename from public.direct_migrations order by version`;

const relations = async (db: TestDatabase, names: string[]) =>
  (
    await db.sql<{ relname: string }[]>`
      select relname from pg_class where relname = any(${names}) and relnamespace = 'public'::regnamespace order by 1`
  ).map((r) => r.relname);

describe('pgstore runs its own set itself', () => {
  it("which sets pgstore runs itself: both by default (pgstore's only with the server search_path); none with --engine dbmate", () => {
    const session = (params: Record<string, string>, engine: 'pgstore' | 'dbmate' = 'pgstore') =>
      ({ conn: { params }, engine }) as never;
    expect(runsDirect(session({}), { name: 'pgstore' })).toBe(true);
    expect(runsDirect(session({}), { name: 'app' })).toBe(true);
    expect(runsDirect(session({ search_path: 'app' }), { name: 'app' })).toBe(true);
    expect(runsDirect(session({ search_path: 'app' }), { name: 'pgstore' })).toBe(false);
    expect(runsDirect(session({ options: '-c search_path=app' }), { name: 'pgstore' })).toBe(false);
    expect(runsDirect(session({}, 'dbmate'), { name: 'pgstore' })).toBe(false);
    expect(runsDirect(session({}, 'dbmate'), { name: 'app' })).toBe(false);
  });

  it("makes the schema dbmate makes from pgstore's files (diff against a database dbmate migrated)", async () => {
    const db = await emptyDatabase();
    await ensureMigrationLog(db.sql, PGSTORE_TABLE); // pgstore's columns; dbmate writes only `version`
    const url = new URL(db.url);
    url.searchParams.set('sslmode', 'disable');
    const r = spawnSync(
      dbmateBinary(),
      [
        '--no-dump-schema',
        '--migrations-dir',
        readMigrationsDir(),
        '--migrations-table',
        'public.pgstore_schema_migrations',
        'migrate',
      ],
      { env: cleanEnv({ DATABASE_URL: url.toString() }), encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    // The scratch database of `diff` is migrated by `migrate up`: pgstore's set, run directly.
    const diff = await diffSchema({ ...coreOptions(db.url), set: 'pgstore' });
    expect(diff.migrationsApplied).toBe(readMigrations(readMigrationsDir()).length);
    expect({ onlyInLive: diff.onlyInLive, onlyInFiles: diff.onlyInFiles, changed: diff.changed }).toEqual({
      onlyInLive: [],
      onlyInFiles: [],
      changed: [],
    });
  }, 60_000);

  it('records each file with its checksum, and a rollback forgets it', async () => {
    const db = await emptyDatabase();
    const dir = folder({
      '0001_a.sql': file('create table a (x int);\ncreate table a2 (y int)', 'drop table a2; drop table a;'),
      '0002_b.sql': file('create table b (x int)', 'drop table b', ' transaction:false'),
    });
    const run = await runDirect(db, dir);
    expect(run.applied).toEqual(['0001_a.sql', '0002_b.sql']);
    const files = readMigrations(dir);
    expect(await rows(db)).toEqual(files.map((f) => ({ version: f.version, sha256: f.sha256, filename: f.filename })));
    expect(await relations(db, ['a', 'a2', 'b'])).toEqual(['a', 'a2', 'b']);
    const back = await runDirect(db, dir, { command: 'rollback' });
    expect(back.rolledBack).toEqual(['0002_b.sql', '0001_a.sql']);
    expect(await rows(db)).toEqual([]);
    expect(await relations(db, ['a', 'a2', 'b'])).toEqual([]);
  });

  it('a failing file: nothing of it stays (rolled back as a whole, no row), the ones before it stay, the error names its line', async () => {
    const db = await emptyDatabase();
    const dir = folder({
      '0001_ok.sql': file('create table ok (x int)'),
      '0002_bad.sql': file('create table half (x int);\ninsert into half values (1);\nselect * from nowhere;'),
      '0003_never.sql': file('create table never (x int)'),
    });
    const error = await runDirect(db, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(String((error as Error).message)).toMatch(/0002_bad\.sql .*line 4: relation "nowhere" does not exist/);
    expect((error as MigrationFailedError).hint).toMatch(
      /rolled back as a whole .* 1 migration applied before it \(0001_ok\.sql\)/,
    );
    expect((await rows(db)).map((r) => r.version)).toEqual(['0001']);
    expect(await relations(db, ['ok', 'half', 'never'])).toEqual(['ok']);
    // Fixed, the next run applies the rest.
    writeFileSync(join(dir, '0002_bad.sql'), file('create table half (x int)'));
    expect((await runDirect(db, dir, { from: '0002' })).applied).toEqual(['0002_bad.sql', '0003_never.sql']);
  });

  it('files go out together, but one whose COMMIT fails (a deferred constraint) stops the ones after it', async () => {
    const db = await emptyDatabase();
    const dir = folder({
      '0001_deferred.sql': file(
        'create table p (id int primary key);\ncreate table c (p int references p deferrable initially deferred);\ninsert into c values (1);',
      ),
      '0002_after.sql': file('create table after_it (x int)'),
      '0003_later.sql': file('create table later (x int)'),
    });
    const error = await runDirect(db, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(String((error as Error).message)).toMatch(/0001_deferred\.sql .*violates foreign key constraint/);
    expect(await relations(db, ['p', 'c', 'after_it', 'later'])).toEqual([]);
    expect(await rows(db)).toEqual([]);
  });

  it('a lock timeout is retried with backoff, and applied once the blocker goes', async () => {
    const db = await emptyDatabase();
    await db.sql`create table t (x int)`;
    const dir = folder({ '0001_alter.sql': file('alter table t add column y int') });
    const hold = await blocker(db, 'select * from t');
    const [run] = await Promise.all([
      runDirect(db, dir, { lockTimeoutMs: 200, retries: 6 }),
      releaseOnceTimedOut(db, hold),
    ]);
    expect(run.applied).toEqual(['0001_alter.sql']);
    expect(run.report.retries.length).toBeGreaterThanOrEqual(1);
    expect(run.report.retries[0]).toMatchObject({
      filename: '0001_alter.sql',
      attempt: 1,
      error: expect.stringMatching(/lock timeout/),
    });
  }, 30_000);

  it('a lock never granted: fails after the retries with the lock timeout advice, nothing recorded', async () => {
    const db = await emptyDatabase();
    await db.sql`create table t (x int)`;
    const dir = folder({ '0001_alter.sql': file('alter table t add column y int') });
    const hold = await blocker(db, 'select * from t');
    try {
      const error = await runDirect(db, dir, { lockTimeoutMs: 100, retries: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationFailedError);
      expect((error as MigrationFailedError).hint).toMatch(/could not get its lock within lock_timeout/);
    } finally {
      await hold.release();
    }
    expect(await rows(db)).toEqual([]);
  });

  it('statement_timeout stops a long statement and says so', async () => {
    const db = await emptyDatabase();
    const dir = folder({ '0001_slow.sql': file('select pg_sleep(5)') });
    const error = await runDirect(db, dir, { statementTimeoutMs: 150 }).catch((e: unknown) => e);
    expect((error as MigrationFailedError).hint).toMatch(/ran longer than --statement-timeout/);
    expect(await rows(db)).toEqual([]);
  });

  it('CREATE INDEX CONCURRENTLY that fails leaves no invalid index', async () => {
    const db = await emptyDatabase();
    await db.sql`create table t (x int)`;
    await db.sql`insert into t values (1), (1)`;
    const dir = folder({
      '0001_idx.sql': file('create unique index concurrently t_x on t (x)', '', ' transaction:false'),
    });
    const error = await runDirect(db, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((await db.sql`select 1 from pg_class where relname = 't_x'`).length).toBe(0);
    expect(await rows(db)).toEqual([]);
  });

  it('a session killed in the middle of a file leaves no trace of it (at every moment tried)', async () => {
    const db = await emptyDatabase();
    const dir = folder({
      '0001_slow.sql': file(
        'create table k1 (x int);\nselect pg_sleep(0.05);\ncreate table k2 (x int);\nselect pg_sleep(0.05);',
        'drop table k2; drop table k1;',
      ),
    });
    let killedMidFile = 0;
    // The kill lands at a moment after the file started: in its first statements, its second
    // sleep, or as it commits (then the file is whole and recorded).
    for (const delay of [0, 10, 30, 50, 70, 90, 110]) {
      const killer = (async () => {
        const until = Date.now() + 10_000;
        while (Date.now() < until) {
          const running = await db.sql`select 1 from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and state = 'active' and query like '%pg_sleep%'`;
          if (running.length) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        await new Promise((r) => setTimeout(r, delay));
        const killed = await db.sql`select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and query like '%pg_sleep%'`;
        return killed.length > 0;
      })();
      const outcome = await runDirect(db, dir).then(
        () => 'applied',
        (error: MigrationFailedError) => {
          expect(error.hint).toMatch(
            /connection was lost while 0001_slow\.sql ran: whether it was applied is not known/,
          );
          return 'failed';
        },
      );
      if ((await killer) && outcome === 'failed') killedMidFile++;
      const recorded = (await rows(db)).length === 1;
      const tables = await relations(db, ['k1', 'k2']);
      // All of the file with its row, or nothing of either.
      // (Killed as it commits: recorded, though the run saw its connection lost.)
      expect({ delay, recorded, tables }).toEqual({ delay, recorded, tables: recorded ? ['k1', 'k2'] : [] });
      if (!recorded) expect(outcome).toBe('failed');
      if (recorded) await runDirect(db, dir, { command: 'rollback' });
    }
    expect(killedMidFile).toBeGreaterThan(0);
  }, 60_000);

  it('migrate up applies pgstore set directly, each row with its checksum and file name', async () => {
    const db = await emptyDatabase();
    const result = await migrateUp({ ...coreOptions(db.url), set: 'pgstore' });
    expect(result.applied.length).toBe(readMigrations(readMigrationsDir()).length);
    const missing =
      await db.sql`select version from public.pgstore_schema_migrations where sha256 is null or filename is null`;
    expect(missing.length).toBe(0);
  });
});

function readMigrationsDir(): string {
  return join(__dirname, '..', '..', 'migrations');
}

describe('a file that ends the transaction pgstore runs it in', () => {
  it('a COMMIT, END or ROLLBACK of its own is refused before anything runs (ROLLBACK TO a savepoint is fine)', async () => {
    const db = await emptyDatabase();
    const dir = folder({
      '0001_first.sql': file('create table first (x int)'),
      '0002_savepoint.sql': file('savepoint s;\ncreate table sp (x int);\nrollback to savepoint s;'),
      '0003_nested.sql': file('create table n1 (x int);\ncommit;\nselect * from nowhere;'),
      '0004_end.sql': file('create table n2 (x int);\nend;'),
    });
    const error = await runDirect(db, dir).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(
      /a statement ends the transaction its migration runs in: 0003_nested\.sql:3, 0004_end\.sql:3$/,
    );
    expect(await relations(db, ['first', 'sp', 'n1', 'n2'])).toEqual([]);
    expect(await rows(db)).toEqual([]);
    // The same statement in a transaction:false file is the file's own business, as under dbmate.
    const alone = folder({ '0001_alone.sql': file('create table n3 (x int);\ncommit;', '', ' transaction:false') });
    expect((await runDirect(db, alone)).applied).toEqual(['0001_alone.sql']);
  });

  it('a procedure that commits (server 2D000): rolled back as a whole, the hint says to mark the file transaction:false', async () => {
    const db = await emptyDatabase();
    await db.sql.unsafe('create procedure commits() language plpgsql as $$ begin commit; end $$');
    const dir = folder({ '0001_call.sql': file('create table before_call (x int);\ncall commits();') });
    const error = (await runDirect(db, dir).catch((e: unknown) => e)) as MigrationFailedError;
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error.hint).toMatch(/rolled back as a whole .* mark the file `-- migrate:up transaction:false`/);
    expect(await relations(db, ['before_call'])).toEqual([]);
    expect(await rows(db)).toEqual([]);
  });

  it('a file that resets the role or all settings is run by dbmate, whose sessions start as the owner role', async () => {
    const db = await emptyDatabase();
    // The database belongs to a role of its own: migrations run as it (SET ROLE on pgstore's
    // session, a startup option on dbmate's), so RESET ROLE must land on it, not on the login.
    const owner = `${db.name}_own`;
    await db.sql.unsafe(`create role "${owner}"; alter database "${db.name}" owner to "${owner}";
      grant all on schema public to "${owner}"`);
    try {
      const dir = folder({
        '0001_plain.sql': file('create table plain (x int)'),
        '0002_reset.sql': file('set role none;\nreset role;\ncreate table after_reset (x int);'),
      });
      expect(fileNeedingDbmate(readMigrations(dir))?.filename).toBe('0002_reset.sql');
      const logged: string[] = [];
      const result = await migrateUp({
        ...coreOptions(db.url),
        set: 'app',
        migrationsDir: dir,
        log: (line) => logged.push(line),
      });
      expect(result.applied.map((m) => m.filename)).toEqual(['0001_plain.sql', '0002_reset.sql']);
      expect(logged.join('\n')).toMatch(
        /0002_reset\.sql resets the session's role or settings: the app set runs through dbmate/,
      );
      expect(await relations(db, ['plain', 'after_reset'])).toEqual(['after_reset', 'plain']);
      const owners = await db.sql<{ relname: string; owner: string }[]>`
        select relname, pg_get_userbyid(relowner) as owner from pg_class
         where relname in ('plain', 'after_reset') order by relname`;
      expect(owners).toEqual([
        { relname: 'after_reset', owner },
        { relname: 'plain', owner },
      ]);
    } finally {
      // The role is the cluster's: its objects (the database included) go back to the test's user.
      await db.sql.unsafe(
        `reassign owned by "${owner}" to current_user; drop owned by "${owner}"; drop role "${owner}"`,
      );
    }
  });
});

describe('what dbmate does with the same files, pgstore does', () => {
  it('a database whose default_transaction_read_only is on migrates (BEGIN READ WRITE, as dbmate sends it)', async () => {
    const db = await emptyDatabase();
    const dir = folder({ '0001_rw.sql': file('create table rw (x int)') });
    await runDirect(db, dir); // the history table exists before the database turns read-only
    await db.sql.unsafe(`alter database "${db.name}" set default_transaction_read_only = on`);
    writeFileSync(join(dir, '0002_ro.sql'), file('create table ro (x int)'));
    expect((await runDirect(db, dir, { from: '0002' })).applied).toEqual(['0002_ro.sql']);
    expect(await relations(db, ['ro'])).toEqual(['ro']);
  });

  it('a real schema (Pagila, pg_dump output with session SETs, functions, triggers, partitions): the schema dbmate makes', async () => {
    const live = await emptyDatabase();
    const schema = readFileSync(new URL('../fixtures/pagila/pagila-schema.sql', import.meta.url), 'utf8');
    const dir = folder({
      '0001_pagila.sql': `-- migrate:up\n${schema}\n-- migrate:down\n`,
      '0002_after.sql': file('create table public.after_pagila (x public.year)'),
    });
    const options = { ...coreOptions(live.url), set: 'app' as const, migrationsDir: dir };
    // The live database by the dbmate binary; diff's scratch database by pgstore itself.
    expect((await migrateUp({ ...options, engine: 'dbmate' })).applied.length).toBe(2);
    const diff = await diffSchema(options);
    expect(diff.migrationsApplied).toBe(2);
    expect({ onlyInLive: diff.onlyInLive, onlyInFiles: diff.onlyInFiles, changed: diff.changed }).toEqual({
      onlyInLive: [],
      onlyInFiles: [],
      changed: [],
    });
  }, 60_000);

  it('COPY ... FROM STDIN is refused before anything runs, with the file and line', async () => {
    const db = await emptyDatabase();
    const dir = folder({
      '0001_first.sql': file('create table first (x int)'),
      '0002_copy.sql': file('create table c (x int);\ncopy c (x) from stdin;\n1\n\\.\n'),
    });
    const error = await runDirect(db, dir).catch((e: unknown) => e);
    expect(String((error as Error).message)).toMatch(
      /COPY \.\.\. FROM STDIN cannot run in a migration: 0002_copy\.sql:3/,
    );
    expect(await relations(db, ['first', 'c'])).toEqual([]);
  });
});
