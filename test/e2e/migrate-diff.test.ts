/**
 * `pgstore migrate diff`: a scratch database migrated from the files against the live
 * schema; exit 0 when they match, 1 with the objects that differ; the scratch database is
 * always dropped.
 * The cases run the CLI's entry in-process (test/helpers/cli-in-process.ts: same parsing,
 * output and exit codes, no node start-up each); the first diff runs through the built binary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compareDumps } from '../../src/core/migrate/diff.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { MIGRATION_COUNT } from '../helpers/migrations.js';

let db: TestDatabase & { drop(): Promise<void> };
const dir = mkdtempSync(join(tmpdir(), 'pgstore-diff-'));
const run = (args: string[], cli = runCliInProcess) =>
  cli(['migrate', ...args], {
    env: cleanEnv({ DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1' }),
    timeoutMs: 120_000,
  });

beforeAll(async () => {
  db = await createTestDatabase('template0');
  writeFileSync(
    join(dir, '20200101000000_widgets.sql'),
    '-- migrate:up\ncreate table widgets (id bigint primary key, name text not null, price numeric(10,2));\ncreate index widgets_name on widgets (name);\n-- migrate:down\ndrop table widgets;\n',
  );
  writeFileSync(
    join(dir, '20200102000000_fn.sql'),
    "-- migrate:up\ncreate function widget_label(w widgets) returns text language sql as $$ select w.name || ' #' || w.id $$;\n-- migrate:down\ndrop function widget_label;\n",
  );
  const up = await run(['up', '--migrations-dir', dir]);
  if (up.code !== 0) throw new Error(up.stderr);
  await db.sql`insert into widgets select i, 'w' || i, i from generate_series(1, 100) i`;
});

afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function databaseExists(name: string): Promise<boolean> {
  const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
  try {
    return (await admin`select 1 from pg_database where datname = ${name}`).length > 0;
  } finally {
    await admin.end();
  }
}

describe('pgstore migrate diff', () => {
  it('exits 0 when the live schema is what the files make; the scratch database is dropped', async () => {
    const r = await run(['diff', '--json', '--migrations-dir', dir], runCli);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const diff = JSON.parse(r.stdout);
    expect(diff).toMatchObject({
      equal: true,
      onlyInLive: [],
      onlyInFiles: [],
      changed: [],
      migrationsApplied: MIGRATION_COUNT + 2,
    }); // pgstore's set, then the two files
    expect(await databaseExists(diff.scratchDatabase)).toBe(false);
    expect((await run(['diff', '--migrations-dir', dir])).stdout).toMatch(
      new RegExp(`^No drift: database ${db.name} matches its ${MIGRATION_COUNT + 2} migration files\\.$`, 'm'),
    );
  });

  it('exits 1 and names what differs after changes made by hand on the live database', async () => {
    await db.sql`alter table widgets add column colour text`;
    await db.sql`create table handmade (id int)`;
    await db.sql`drop index widgets_name`;
    try {
      const r = await run(['diff', '--json', '--migrations-dir', dir]);
      expect(r.code, r.stderr).toBe(1);
      const diff = JSON.parse(r.stdout);
      expect(diff.equal).toBe(false);
      expect(diff.onlyInLive).toEqual(['TABLE public.handmade']);
      expect(diff.onlyInFiles).toEqual(['INDEX public.widgets_name']);
      expect(diff.changed).toEqual([{ object: 'TABLE public.widgets', onlyInLive: ['colour text'], onlyInFiles: [] }]);
      expect(await databaseExists(diff.scratchDatabase)).toBe(false);
      const text = await run(['diff', '--migrations-dir', dir]);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/differs: TABLE public\.widgets\n {2}live: {2}colour text/);
      expect(text.stdout).toMatch(/only in the live database: TABLE public\.handmade/);
      expect(text.stdout).toMatch(new RegExp(`between database ${db.name} and its migration files\\.$`, 'm'));
    } finally {
      await db.sql`alter table widgets drop column colour`;
      await db.sql`drop table handmade`;
      await db.sql`create index widgets_name on widgets (name)`;
    }
  });

  it('a file that fails to apply exits 1 with the error, and the scratch database is still dropped', async () => {
    const bad = join(dir, '20200103000000_bad.sql');
    writeFileSync(bad, '-- migrate:up\nalter table no_such_table add column x int;\n-- migrate:down\n');
    try {
      const r = await run(['diff', '--migrations-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no_such_table/);
      const scratch = /scratch database (pgstore_scratch_[0-9a-f]+)/.exec(r.stderr)?.[1];
      expect(scratch).toBeTruthy();
      expect(await databaseExists(scratch!)).toBe(false);
    } finally {
      rmSync(bad);
    }
  });
});

describe('compareDumps', () => {
  it('ignores comments, SET lines and column order, not a changed function body', () => {
    const header = (name: string, type = 'TABLE') =>
      `--\n-- Name: ${name}; Type: ${type}; Schema: public; Owner: -\n--\n\n`;
    const a = `SET statement_timeout = 0;\n${header('t')}CREATE TABLE public.t (\n    a integer,\n    b text\n);\n\n${header('f()', 'FUNCTION')}CREATE FUNCTION public.f() RETURNS int\n    AS $$ select 1 $$;\n`;
    const b = `SET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\n-- Dumped by pg_dump\n${header('t')}CREATE TABLE public.t (\n    b text,\n    a integer\n);\n\n${header('f()', 'FUNCTION')}CREATE FUNCTION public.f() RETURNS int\n    AS $$ select 2 $$;\n`;
    const diff = compareDumps(a, b);
    expect(diff.changed).toEqual([
      { object: 'FUNCTION public.f()', onlyInLive: ['AS $$ select 1 $$;'], onlyInFiles: ['AS $$ select 2 $$;'] },
    ]);
  });
});
