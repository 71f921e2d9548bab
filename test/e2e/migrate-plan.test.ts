/**
 * `pgstore migrate plan`: pending files with their SQL, lint findings and lock levels; and
 * --rehearse on a real backup: each migration applied to a restored scratch copy, timed, with
 * the locks its transaction held; a failure reported; the scratch database always dropped and
 * the live database never touched.
 * The plan runs through the CLI's entry in-process (test/helpers/cli-in-process.ts); the backup
 * and the rehearsals that are signalled run through the built binary.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, cleanEnv } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let db: TestDatabase & { drop(): Promise<void> };
const dir = mkdtempSync(join(tmpdir(), 'pgstore-plan-'));
const backups = mkdtempSync(join(tmpdir(), 'pgstore-plan-backups-'));
const env = () => cleanEnv({ DATABASE_URL: db.url, PGSTORE_BACKUP_DIR: backups, DBMATE_NO_DUMP_SCHEMA: '1' });
const run = (args: string[]) => runCliInProcess(['migrate', ...args], { env: env(), timeoutMs: 120_000 });

const write = (name: string, up: string, opts = '') =>
  writeFileSync(join(dir, name), `-- migrate:up${opts}\n${up}\n-- migrate:down\n`);

beforeAll(async () => {
  db = await createTestDatabase('template0');
  write(
    '20200101000000_widgets.sql',
    "create table widgets (id bigint primary key, name text not null);\ninsert into widgets select i, 'w' || (i % 50) from generate_series(1, 2000) i;",
  );
  const up = await run(['up', '--migrations-dir', dir]);
  if (up.code !== 0) throw new Error(up.stderr);
  const backup = await runCliInProcess(['backup', '--json'], { env: env() });
  if (backup.code !== 0) throw new Error(backup.stderr);
  // Pending from here on: lines 2 and 3 of the first, line 2 of the second.
  write(
    '20200102000000_size.sql',
    'alter table widgets add column size bigint;\ncreate index widgets_size on widgets (size);',
  );
  write(
    '20200103000000_name_index.sql',
    'create index concurrently if not exists widgets_name on widgets (name);',
    ' transaction:false',
  );
});

afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(backups, { recursive: true, force: true });
});

async function databaseExists(name: string): Promise<boolean> {
  const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
  try {
    return (await admin`select 1 from pg_database where datname = ${name}`).length > 0;
  } finally {
    await admin.end();
  }
}

const liveColumns = async () =>
  (
    await db.sql<
      { c: string }[]
    >`select column_name as c from information_schema.columns where table_name = 'widgets' order by ordinal_position`
  ).map((r) => r.c);

describe('pgstore migrate plan', () => {
  it('lists the pending files with their SQL, lint findings and the locks each statement takes', async () => {
    const r = await run(['plan', '--json', '--migrations-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.rehearsal).toBeNull();
    expect(plan.pending.map((p: { filename: string }) => p.filename)).toEqual([
      '20200102000000_size.sql',
      '20200103000000_name_index.sql',
    ]);
    const [size, index] = plan.pending;
    expect(size.sql).toContain('alter table widgets add column size bigint;');
    expect(size.firstLine).toBe(2);
    expect(size.locks).toEqual([
      expect.objectContaining({
        line: 2,
        kind: 'ALTER TABLE ... ADD COLUMN',
        table: 'widgets',
        lock: 'ACCESS EXCLUSIVE',
      }),
      expect.objectContaining({ line: 3, kind: 'CREATE INDEX', table: 'widgets', lock: 'SHARE' }),
    ]);
    expect(size.findings).toContainEqual(
      expect.objectContaining({ line: 3, rule: 'require-concurrent-index-creation', level: 'error' }),
    );
    expect(index.transactional).toBe(false);
    expect(index.locks).toEqual([
      expect.objectContaining({ line: 2, kind: 'CREATE INDEX CONCURRENTLY', lock: 'SHARE UPDATE EXCLUSIVE' }),
    ]);
    const text = await run(['plan', '--migrations-dir', dir]);
    // "on database …": a set is also called pgstore, so the database is named as one.
    expect(text.stdout).toMatch(new RegExp(`^2 pending migrations on database ${db.name}:$`, 'm'));
    expect(text.stdout).toMatch(/line 2: ALTER TABLE \.\.\. ADD COLUMN on widgets: ACCESS EXCLUSIVE/);
    expect((await run(['plan', '--strict', '--migrations-dir', dir])).code).toBe(1);
  });

  it('--rehearse applies them to the latest backup in a scratch database, reports time and locks held, then drops it', async () => {
    const r = await run(['plan', '--rehearse', '--json', '--migrations-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const { rehearsal } = JSON.parse(r.stdout);
    expect(rehearsal.ok).toBe(true);
    expect(rehearsal.backup.id).toBeTruthy();
    expect(rehearsal.migrations.map((m: { filename: string; status: string }) => [m.filename, m.status])).toEqual([
      ['20200102000000_size.sql', 'applied'],
      ['20200103000000_name_index.sql', 'applied'],
    ]);
    const [size, index] = rehearsal.migrations;
    expect(size.durationMs).toBeGreaterThanOrEqual(0);
    expect(size.locksHeld).toContainEqual({ relation: 'public.widgets', mode: 'ACCESS EXCLUSIVE' });
    expect(size.locksHeld).toContainEqual({ relation: 'public.widgets', mode: 'SHARE' });
    expect(index.locksHeld).toBeNull(); // no transaction to read them from
    expect(await databaseExists(rehearsal.scratchDatabase)).toBe(false);
    expect(await liveColumns()).toEqual(['id', 'name']);
    expect((await run(['status', '--json', '--migrations-dir', dir])).stdout).toContain('20200103000000');
  });

  it('a migration that fails on the real data is reported; later ones are not run; scratch dropped, live untouched', async () => {
    // The backup's names repeat (i % 50): a unique constraint cannot be built.
    write(
      '20200104000000_unique_name.sql',
      '-- names must be unique\nalter table widgets\n  add constraint widgets_name_key unique (name);',
    );
    write('20200105000000_after.sql', 'create table after_failure (id bigint);');
    try {
      const r = await run(['plan', '--rehearse', 'latest', '--json', '--migrations-dir', dir]);
      expect(r.code, r.stderr).toBe(1);
      const { rehearsal } = JSON.parse(r.stdout);
      expect(rehearsal.ok).toBe(false);
      const byFile = Object.fromEntries(rehearsal.migrations.map((m: { filename: string }) => [m.filename, m]));
      expect(byFile['20200102000000_size.sql'].status).toBe('applied');
      expect(byFile['20200104000000_unique_name.sql'].status).toBe('failed');
      expect(byFile['20200104000000_unique_name.sql'].error).toMatch(/could not create unique index/);
      expect(byFile['20200105000000_after.sql'].status).toBe('not run');
      expect(await databaseExists(rehearsal.scratchDatabase)).toBe(false);
      expect(await liveColumns()).toEqual(['id', 'name']);
      const text = await run(['plan', '--rehearse', '--migrations-dir', dir]);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/FAILED 20200104000000_unique_name\.sql/);
      expect(text.stdout).toMatch(/the live database was not touched/);
    } finally {
      rmSync(join(dir, '20200104000000_unique_name.sql'));
      rmSync(join(dir, '20200105000000_after.sql'));
    }
  });

  it('SIGTERM during a rehearsal drops the scratch database', async () => {
    write('20200106000000_slow.sql', 'select pg_sleep(60);');
    try {
      const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
      const scratchNow = async () =>
        (
          await admin<
            { n: string }[]
          >`select datname as n from pg_database where datname ~ '^pgstore_scratch_' and datname !~ '_pgstore_'`
        ).map((r) => r.n);
      const before = new Set(await scratchNow());
      const child = spawn(process.execPath, [BIN, 'migrate', 'plan', '--rehearse', '--migrations-dir', dir], {
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d));
      child.stderr.on('data', (d: Buffer) => (output += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      let mine: string | undefined;
      // Wait until the slow migration runs in the scratch database.
      for (let i = 0; i < 300 && !mine; i++) {
        const [row] = await admin<
          { d: string }[]
        >`select datname as d from pg_stat_activity where datname ~ '^pgstore_scratch_' and query ~ 'pg_sleep\\(60\\)'`;
        if (row && !before.has(row.d)) mine = row.d;
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(mine).toBeTruthy();
      child.kill('SIGTERM');
      expect(await exited, output).toBe(143);
      expect(await scratchNow()).not.toContain(mine);
      await admin.end();
    } finally {
      rmSync(join(dir, '20200106000000_slow.sql'));
    }
  });

  it('a scratch database left by a rehearsal killed outright (SIGKILL) is dropped by the next run', async () => {
    write('20200106000000_slow.sql', 'select pg_sleep(60);');
    const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
    try {
      const child = spawn(process.execPath, [BIN, 'migrate', 'plan', '--rehearse', '--migrations-dir', dir], {
        env: env(),
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.on('close', resolve));
      let left: string | undefined;
      for (let i = 0; i < 300 && !left; i++) {
        const [row] = await admin<
          { d: string }[]
        >`select datname as d from pg_stat_activity where datname ~ '^pgstore_scratch_' and query ~ 'pg_sleep\\(60\\)' and pid <> pg_backend_pid()`;
        if (row) left = row.d;
        else await new Promise((r) => setTimeout(r, 100));
      }
      expect(left).toBeTruthy();
      child.kill('SIGKILL');
      await exited;
      expect(await databaseExists(left!)).toBe(true);
      rmSync(join(dir, '20200106000000_slow.sql'));
      const next = await run(['plan', '--rehearse', '--json', '--migrations-dir', dir]);
      expect(next.code, next.stderr).toBe(0);
      expect(await databaseExists(left!)).toBe(false);
    } finally {
      rmSync(join(dir, '20200106000000_slow.sql'), { force: true });
      await admin.end();
    }
  });
});
