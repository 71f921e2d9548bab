/**
 * Lock timeouts with retry: a migration blocked by a concurrent transaction times out instead
 * of queueing every query behind it, is retried with backoff, and succeeds once the blocker
 * goes; a CREATE INDEX CONCURRENTLY that times out leaves no invalid index behind.
 * The migrations run the CLI's entry in-process (test/helpers/cli-in-process.ts): the blockers
 * are connections of the test's own, the waits are the server's.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { emptyDatabases, type TestDatabase } from '../helpers/db.js';
import { blocker, releaseOnceTimedOut } from '../helpers/lock-blocker.js';

const dirs: string[] = [];
const emptyDatabase = emptyDatabases();

afterAll(async () => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function setupDb() {
  const db = await emptyDatabase();
  await db.sql`create table t (x int)`;
  await db.sql`insert into t values (1)`;
  return db;
}

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-locks-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const migrateWith = (db: TestDatabase, dir: string, ...args: string[]) =>
  runCliInProcess(['migrate', 'up', '--set', 'app', '--migrations-dir', dir, ...args], {
    env: cleanEnv({ DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1' }),
  });

const columns = async (db: TestDatabase) =>
  (
    await db.sql<
      { attname: string }[]
    >`select attname from pg_attribute where attrelid = 't'::regclass and attnum > 0 order by attnum`
  ).map((r) => r.attname);

// Both engines: pgstore applying the files itself (the default) and the dbmate binary. The
// tests wait (lock timeouts, backoff) on databases of their own: they run at once.
describe.concurrent.each(['pgstore', 'dbmate'])('migrate up --engine %s: lock timeouts with retry', (engine) => {
  const migrate = (db: TestDatabase, dir: string, ...args: string[]) =>
    migrateWith(db, dir, '--engine', engine, ...args);

  it('a blocked ALTER TABLE times out, is retried with backoff, and is applied once the blocker releases', async () => {
    const db = await setupDb();
    const dir = folder({
      '0001_add_y.sql':
        '-- migrate:up\nalter table t add column y int;\n-- migrate:down\nalter table t drop column y;\n',
    });
    const hold = await blocker(db, 'select * from t');
    try {
      const [run] = await Promise.all([
        migrate(db, dir, '--lock-timeout', '200ms', '--retries', '6', '--json'),
        releaseOnceTimedOut(db, hold),
      ]);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result.applied.map((m: { filename: string }) => m.filename)).toEqual(['0001_add_y.sql']);
      expect(result.retries.length).toBeGreaterThanOrEqual(1);
      expect(result.retries[0]).toMatchObject({
        set: 'app',
        filename: '0001_add_y.sql',
        attempt: 1,
        error: expect.stringMatching(/lock timeout/),
      });
      expect(await columns(db)).toEqual(['x', 'y']);
    } finally {
      await hold.release();
    }
  });

  it('a blocker that never releases: exit 1 after the retries, a clear message, nothing applied', async () => {
    const db = await setupDb();
    const dir = folder({
      '0001_add_y.sql':
        '-- migrate:up\nalter table t add column y int;\n-- migrate:down\nalter table t drop column y;\n',
    });
    const hold = await blocker(db, 'select * from t');
    try {
      const started = Date.now();
      const run = await migrate(db, dir, '--lock-timeout', '200ms', '--retries', '1');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/migration 0001_add_y.sql \(app set\) failed to apply.*lock timeout/);
      expect(run.stderr).toMatch(/could not get its lock within lock_timeout \(tried 2 times\)/);
      expect(run.stderr).toMatch(/retry 1 of 1/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      // Two attempts of 200 ms and a backoff of a second between them: waited, then gave up.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(await columns(db)).toEqual(['x']);
    } finally {
      await hold.release();
    }
    const status = await runCliInProcess(['migrate', 'status', '--json', '--set', 'app', '--migrations-dir', dir], {
      env: cleanEnv({ DATABASE_URL: db.url }),
    });
    expect(JSON.parse(status.stdout).pending).toHaveLength(1);
  });

  it('--statement-timeout stops a long statement and says so', async () => {
    const db = await setupDb();
    const dir = folder({ '0001_slow.sql': '-- migrate:up\nselect pg_sleep(5);\n-- migrate:down\n' });
    const run = await migrate(db, dir, '--statement-timeout', '100ms');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/statement timeout/);
    expect(run.stderr).toMatch(/--statement-timeout/);
  });

  it('CREATE INDEX CONCURRENTLY that times out: its invalid index is dropped and the retry builds a valid one', async () => {
    const db = await setupDb();
    const dir = folder({
      '0001_index.sql':
        '-- migrate:up transaction:false\ncreate index concurrently t_x_idx on t (x);\n-- migrate:down\ndrop index t_x_idx;\n',
    });
    // An open writer: CREATE INDEX CONCURRENTLY builds, then waits for it and times out.
    const hold = await blocker(db, 'insert into t values (2)');
    try {
      const [run] = await Promise.all([
        migrate(db, dir, '--lock-timeout', '200ms', '--retries', '6', '--json'),
        releaseOnceTimedOut(db, hold),
      ]);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result.retries.length).toBeGreaterThanOrEqual(1);
      expect(result.droppedInvalidIndexes).toContain('t_x_idx');
      const [index] = await db.sql<
        { valid: boolean }[]
      >`select indisvalid as valid from pg_index where indexrelid = 't_x_idx'::regclass`;
      expect(index!.valid).toBe(true);
    } finally {
      await hold.release();
    }
  });

  it('CREATE INDEX CONCURRENTLY blocked for good: refuses with the invalid index named and how to drop it', async () => {
    const db = await setupDb();
    const dir = folder({
      '0001_index.sql':
        '-- migrate:up transaction:false\ncreate index concurrently t_x_idx on t (x);\n-- migrate:down\ndrop index t_x_idx;\n',
    });
    const hold = await blocker(db, 'insert into t values (2)');
    try {
      const run = await migrate(db, dir, '--lock-timeout', '200ms', '--retries', '0');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /invalid index\(es\) t_x_idx left by CREATE INDEX CONCURRENTLY could not be dropped: drop them with DROP INDEX CONCURRENTLY/,
      );
    } finally {
      await hold.release();
    }
    // Once the blocker is gone, the next run drops it and builds the index.
    const again = await migrate(db, dir, '--lock-timeout', '2s', '--json');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).applied).toHaveLength(1);
    const [index] = await db.sql<
      { valid: boolean }[]
    >`select indisvalid as valid from pg_index where indexrelid = 't_x_idx'::regclass`;
    expect(index!.valid).toBe(true);
  });
});
