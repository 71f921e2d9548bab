/**
 * The real Pagila sample (22 tables with 7 payment partitions, views, a non-ASCII domain,
 * ~46k rows): loaded with psql, backed up with pgstore, restored into other databases, and
 * compared table by table.
 * The commands run through the CLI's entry in-process (pgstoreInProcessDirect: same parsing, output
 * and exit codes, no node start-up each, the client programs named directly); backup.test.ts runs
 * backup and restore through the binary.
 */
import { join } from 'node:path';
import { rawSql } from '../helpers/raw-sql.js';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  databaseTracker,
  fingerprint,
  pgstoreInProcessDirect as pgstoreInProcess,
  psqlFile,
  tempDir,
  type TableFingerprint,
} from './backup-helpers.js';

const PAGILA = new URL('../fixtures/pagila/', import.meta.url).pathname;
const dbs = databaseTracker();
const dir = tempDir('pagila');
const source = dbs.name('pagila');
let expected: TableFingerprint[] = [];

beforeAll(async () => {
  const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
  await admin.unsafe(`create database "${source.name}"`);
  await admin.end();
  psqlFile(source.url, join(PAGILA, 'pagila-schema.sql'));
  // The data without firing triggers: the schema file's foreign keys are in place, and checking
  // them row by row was ~1 s of CPU for rows that are consistent already (the same rows either
  // way: the fingerprint below, which every case compares against, is the same).
  psqlFile(source.url, join(PAGILA, 'pagila-data.sql'), { session_replication_role: 'replica' });
  // A pool of its own, ended: the source stays free of sessions, so it can be a template below.
  const sql = rawSql(source.url, { max: 1, onnotice: () => undefined });
  expected = await fingerprint(sql);
  await sql.end();
}, 120_000);

describe('Pagila through pgstore backup and restore', () => {
  it('has the data the fixture promises', () => {
    expect(expected.length).toBe(21);
    expect(expected.reduce((sum, t) => sum + t.rows, 0)).toBeGreaterThan(45_000);
    expect(expected.find((t) => t.table === 'public.rental')?.rows).toBe(16044);
  });

  it('custom format: backup, restore into a new database, every table identical', async () => {
    const taken = await pgstoreInProcess(source.url, ['backup', '--dir', dir, '--verify', '--json']);
    expect(taken.code, taken.stderr).toBe(0);
    const { manifest } = JSON.parse(taken.stdout);
    expect(manifest.tables).toHaveLength(21);
    expect(manifest.tables).toContainEqual({ schema: 'public', name: 'payment_p2022_07', rows: expect.any(Number) });

    const target = dbs.name('pagila_copy');
    const r = await pgstoreInProcess(source.url, [
      'restore',
      'latest',
      '--dir',
      dir,
      '--target-db',
      target.name,
      '--create',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'created', rowCountsMatch: true, missingRoles: [] });
    const copy = dbs.sql(target.url);
    expect(await fingerprint(copy)).toEqual(expected);
    // Views and the non-ASCII domain came along too.
    expect((await copy`select count(*)::int as n from film_list`)[0]!.n).toBeGreaterThan(900);
    expect((await copy`select typname from pg_type where typname = 'bıgınt'`).length).toBe(1);
  });

  it('directory format with 2 jobs, restored with --clean over a modified copy (partitions and all)', async () => {
    const taken = await pgstoreInProcess(source.url, [
      'backup',
      '--dir',
      dir,
      '--format',
      'directory',
      '--jobs',
      '2',
      '--label',
      'dir',
      '--json',
    ]);
    expect(taken.code, taken.stderr).toBe(0);
    const { id } = JSON.parse(taken.stdout);
    // A copy of the source (CREATE DATABASE ... TEMPLATE: what a restore --create would hold,
    // without loading ~46k rows once more), then changed.
    const target = dbs.name('pagila_clean');
    const admin = rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`create database "${target.name}" template "${source.name}" strategy file_copy`);
    await admin.end();
    const sql = rawSql(target.url, { max: 1 });
    await sql`delete from payment where amount < 1`;
    await sql`drop view film_list`;
    await sql.end();
    const r = await pgstoreInProcess(source.url, [
      'restore',
      id,
      '--dir',
      dir,
      '--target-db',
      target.name,
      '--clean',
      '--yes',
      '--jobs',
      '2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(await fingerprint(dbs.sql(target.url))).toEqual(expected);
  });

  it('restores the plain SQL fixture itself through psql with ON_ERROR_STOP', async () => {
    const target = dbs.name('pagila_sql');
    const schema = await pgstoreInProcess(source.url, [
      'restore',
      join(PAGILA, 'pagila-schema.sql'),
      '--target-db',
      target.name,
      '--create',
    ]);
    expect(schema.code, schema.stderr).toBe(0);
    expect(schema.stdout).toContain('none (not a pgstore backup)');
    const sql = dbs.sql(target.url);
    const tables = await sql`select count(*)::int as n from pg_tables where schemaname = 'public'`;
    expect(tables[0]!.n).toBe(22);
    // The data file into the now non-empty database is refused (no --clean), as documented.
    const data = await pgstoreInProcess(source.url, [
      'restore',
      join(PAGILA, 'pagila-data.sql'),
      '--target-db',
      target.name,
    ]);
    expect(data.code).toBe(3);
  });
});
