/**
 * pgstore restore's guarantees: damaged archives are detected before the target is touched,
 * a non-empty target needs --clean (and a confirmation), --clean swaps in a checked copy, and
 * reset --backup-first backs up before dropping.
 * The cases run the CLI's entry in-process (pgstoreInProcessDirect: same parsing, output
 * and exit codes, no node start-up each, the client programs named directly); backup.test.ts
 * runs backup and restore through the binary.
 */
import { readFileSync, statSync, truncateSync, writeFileSync, openSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sha256File } from '../../src/core/backup/manifest.js';
import { scratchName } from '../../src/core/restore/scratch-names.js';
import { useTestDatabase } from '../helpers/db.js';
import {
  cloneBackup,
  databaseTracker,
  fingerprint,
  pgstoreInProcessDirect as pgstoreIn,
  seed,
  tempDir,
} from './backup-helpers.js';

const db = useTestDatabase();
const dbs = databaseTracker();
const dir = tempDir('restore');
let backupId = '';
let backupPath = '';
/** A restore of backupId that no session uses: the template of restoredCopy(). */
const pristine = dbs.name('pristine');

beforeAll(async () => {
  await seed(db.sql, 120);
  const r = await pgstoreIn(db.url, ['backup', '--dir', dir, '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  ({ id: backupId, path: backupPath } = JSON.parse(r.stdout));
  const copy = await pgstoreIn(db.url, ['restore', backupId, '--dir', dir, '--target-db', pristine.name, '--create']);
  if (copy.code !== 0) throw new Error(copy.stderr);
});

/**
 * A new database holding what a `restore backupId --create` makes (a copy of the pristine
 * restore, by CREATE DATABASE ... TEMPLATE): a filled target for the cases about restoring
 * over one, without a full restore each.
 */
async function restoredCopy(prefix: string): Promise<{ name: string; url: string }> {
  const target = dbs.name(prefix);
  const admin = rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database "${target.name}" template "${pristine.name}"`);
  } finally {
    await admin.end();
  }
  return target;
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
  try {
    return (await admin`select 1 from pg_database where datname = ${name}`).length > 0;
  } finally {
    await admin.end();
  }
}

/** Another backup of the database to damage (a copy of the first: cloneBackup) with its folder and dump path. */
function freshBackup(label: string): { id: string; folder: string; dump: string } {
  const { id, path } = cloneBackup(backupPath, label);
  return { id, folder: path, dump: join(path, 'backup.dump') };
}

describe('pgstore restore safety', () => {
  it('refuses a non-empty target without --clean, and leaves it as it was', async () => {
    const target = await restoredCopy('busy');
    const sql = dbs.sql(target.url);
    await sql`insert into tenancy.tenants (id, name) values ('extra', 'Extra')`;
    const before = await fingerprint(sql);
    const refused = await pgstoreIn(db.url, ['restore', backupId, '--dir', dir, '--target-db', target.name]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/is not empty; refusing to restore into it/);
    expect(refused.stderr).toMatch(/hint: Pass --clean/);
    // This test's own pool is connected: --clean refuses (exit 3) unless --force.
    const busy = await pgstoreIn(db.url, [
      'restore',
      backupId,
      '--dir',
      dir,
      '--target-db',
      target.name,
      '--clean',
      '--yes',
    ]);
    expect(busy.code).toBe(3);
    expect(busy.stderr).toMatch(/other sessions? (is|are) connected/);
    const noTerminal = await pgstoreIn(db.url, [
      'restore',
      backupId,
      '--dir',
      dir,
      '--target-db',
      target.name,
      '--clean',
      '--force',
    ]);
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toMatch(/without confirmation: there is no terminal/);
    expect(await fingerprint(sql)).toEqual(before);
  });

  it('--clean --yes replaces the contents through a checked copy (extra rows gone, grants kept)', async () => {
    const target = await restoredCopy('clean');
    const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
    await admin.unsafe(`alter database "${target.name}" set work_mem = '8MB'`);
    await admin.end();
    let sql = rawSql(target.url, { max: 1 });
    await sql`insert into tenancy.tenants (id, name) values ('extra', 'Extra')`;
    await sql`create table public.added_later (x int)`;
    await sql.end();
    const r = await pgstoreIn(db.url, [
      'restore',
      backupId,
      '--dir',
      dir,
      '--target-db',
      target.name,
      '--clean',
      '--yes',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'replaced', rowCountsMatch: true });
    sql = dbs.sql(target.url);
    expect(await fingerprint(sql)).toEqual(await fingerprint(db.sql));
    expect((await sql`select current_setting('work_mem') as w`)[0]!.w).toBe('8MB');
    const leftovers = rawSql(inject('pgServer').adminUrl, { max: 1 });
    expect(await leftovers`select datname from pg_database where datname like ${`${target.name}_pgstore_%`}`).toEqual(
      [],
    );
    await leftovers.end();
  });

  it("drops an interrupted restore's copy, keeps a swapped-out original, and runs one restore of a database at a time", async () => {
    const target = dbs.name('leftover');
    const copy = scratchName(target.name, 'restore');
    const original = scratchName(target.name, 'old');
    const other = scratchName(`${target.name}x`, 'restore'); // another database's, left alone
    const admin = rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
    try {
      for (const name of [copy, original, other]) await admin.unsafe(`create database "${name}"`);
      // A restore of the same database holding the lock: this one exits 3 and changes nothing.
      const holder = await admin.reserve();
      await holder`select pg_advisory_lock(hashtextextended(${`pgstore:restore:${target.name}`}, 0))`;
      const blocked = await pgstoreIn(db.url, [
        'restore',
        backupId,
        '--dir',
        dir,
        '--target-db',
        target.name,
        '--create',
      ]);
      await holder`select pg_advisory_unlock(hashtextextended(${`pgstore:restore:${target.name}`}, 0))`;
      holder.release();
      expect(blocked.code).toBe(3);
      expect(blocked.stderr).toMatch(new RegExp(`the restore lock on database '${target.name}' is held by`));
      expect(await databaseExists(copy)).toBe(true);

      const r = await pgstoreIn(db.url, [
        'restore',
        backupId,
        '--dir',
        dir,
        '--target-db',
        target.name,
        '--create',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).leftovers).toEqual({ dropped: [copy], kept: [original] });
      expect([await databaseExists(copy), await databaseExists(original), await databaseExists(other)]).toEqual([
        false,
        true,
        true,
      ]);
      // Each run reminds the user of the original it keeps.
      const again = await pgstoreIn(db.url, [
        'restore',
        backupId,
        '--dir',
        dir,
        '--target-db',
        target.name,
        '--clean',
        '--yes',
      ]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain(
        `kept ${original}: what ${target.name} held before a restore swapped it out (an interrupted one`,
      );
    } finally {
      for (const name of [copy, original, other]) await admin.unsafe(`drop database if exists "${name}"`);
      await admin.end();
    }
  });

  it('a file that is not a dump is refused before psql runs (exit 2); the target is never created', async () => {
    const hostsFile = new URL('../fixtures/hosts/urlhaus.hosts', import.meta.url).pathname;
    const target = dbs.name('notdump');
    const r = await pgstoreIn(db.url, ['restore', hostsFile, '--target-db', target.name, '--create']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a pg_dump archive or SQL dump \(it starts with '#/);
    expect(await databaseExists(target.name)).toBe(false);
    // A gzipped SQL dump is a dump: it restores.
    const sqlGz = join(dir, 'plain.sql.gz');
    writeFileSync(
      sqlGz,
      gzipSync(
        '--\n-- a plain dump\n--\ncreate table public.from_gzip (x int);\ninsert into public.from_gzip values (42);\n',
      ),
    );
    const gz = dbs.name('fromgz');
    const restored = await pgstoreIn(db.url, ['restore', sqlGz, '--target-db', gz.name, '--create']);
    expect(restored.code, restored.stderr).toBe(0);
    expect((await dbs.sql(gz.url)`select x from public.from_gzip`)[0]!.x).toBe(42);
  });

  it('a truncated archive is detected by verify and restore; the target is never created', async () => {
    const b = freshBackup('truncated');
    truncateSync(b.dump, Math.floor(statSync(b.dump).size / 2));
    const verify = await pgstoreIn(db.url, ['backup', 'verify', b.id, '--dir', dir]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/is damaged: backup\.dump has \d+ bytes, the manifest says \d+ \(truncated/);
    const target = dbs.name('trunc');
    const r = await pgstoreIn(db.url, ['restore', b.id, '--dir', dir, '--target-db', target.name, '--create']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is damaged/);
    expect(await databaseExists(target.name)).toBe(false);
  });

  it('a truncated archive whose checksums were rewritten still fails the read-back (pg_restore -l alone would pass)', async () => {
    const b = freshBackup('truncated-rehashed');
    truncateSync(b.dump, statSync(b.dump).size - 200);
    const manifestPath = join(b.folder, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.files = [{ path: 'backup.dump', bytes: statSync(b.dump).size, sha256: await sha256File(b.dump) }];
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const verify = await pgstoreIn(db.url, ['backup', 'verify', b.id, '--dir', dir]);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/cannot be read back: pg_restore exited with code 1/);
  });

  it('a bit flip is detected; a --clean restore from it leaves the target untouched', async () => {
    const b = freshBackup('flipped');
    const fd = openSync(b.dump, 'r+');
    const at = Math.floor(statSync(b.dump).size / 2);
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0x10;
    writeSync(fd, byte, 0, 1, at);
    closeSync(fd);
    const verify = await pgstoreIn(db.url, ['backup', 'verify', b.id, '--dir', dir, '--json']);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/backup\.dump does not match its sha256 checksum/);

    const target = await restoredCopy('flip');
    const sql = dbs.sql(target.url);
    await sql`delete from auth.users where email like 'user1%'`;
    const before = await fingerprint(sql);
    const r = await pgstoreIn(db.url, ['restore', b.id, '--dir', dir, '--target-db', target.name, '--clean', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is damaged/);
    expect(await fingerprint(sql)).toEqual(before);
  });

  it('backup verify --method restore test-restores and records the verification', async () => {
    const r = await pgstoreIn(db.url, ['backup', 'verify', backupId, '--dir', dir, '--method', 'restore', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, verified: { method: 'restore' } });
    const list = JSON.parse((await pgstoreIn(db.url, ['backup', 'list', '--dir', dir, '--json'])).stdout);
    expect(list.find((e: { id: string }) => e.id === backupId).verified).toMatchObject({ method: 'restore' });
  });

  it('a failing restore stops at the first error, reports it, and rolls back (one transaction)', async () => {
    const target = dbs.name('failing');
    const sqlFile = join(dir, 'broken.sql');
    writeFileSync(
      sqlFile,
      'create table public.first (x int);\ninsert into public.first values (1);\nselect * from no_such_table;\ncreate table public.never (x int);\n',
    );
    const r = await pgstoreIn(db.url, ['restore', sqlFile, '--target-db', target.name, '--create']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/relation "no_such_table" does not exist/);
    expect(await databaseExists(target.name)).toBe(false);

    // Into an existing empty database: the transaction leaves it empty.
    const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
    await admin.unsafe(`create database "${target.name}"`);
    await admin.end();
    const again = await pgstoreIn(db.url, ['restore', sqlFile, '--target-db', target.name]);
    expect(again.code).toBe(1);
    const sql = dbs.sql(target.url);
    expect(await sql`select relname from pg_class where relname in ('first', 'never')`).toEqual([]);
  });
});

describe('pgstore reset --backup-first', () => {
  const roles: string[] = [];
  const databases: string[] = [];
  afterAll(async () => {
    const admin = rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
    // The roles own the database and its objects: drop those first.
    for (const name of databases) await admin.unsafe(`drop database if exists "${name}" with (force)`);
    for (const role of roles) await admin.unsafe(`drop role if exists "${role}"`);
    await admin.end();
  });

  it('takes a verified backup before dropping the database', async () => {
    const target = dbs.name('rst');
    roles.push(`${target.name}_owner`, `${target.name}_app`);
    databases.push(target.name);
    expect((await pgstoreIn(target.url, ['setup'])).code).toBe(0);
    const sql = rawSql(target.url, { max: 1 });
    await sql`insert into auth.users (email) values ('keep@example.com')`;
    await sql.end();
    const backupDir = join(dir, 'reset');
    const r = await pgstoreIn(target.url, ['reset', '--yes', '--backup-first', '--backup-dir', backupDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.backup.id).toMatch(/-before-reset$/);
    const manifest = JSON.parse(readFileSync(join(result.backup.path, 'manifest.json'), 'utf8'));
    expect(manifest.tables).toContainEqual({ schema: 'auth', name: 'users', rows: 1 });
    expect(manifest.verified).toMatchObject({ method: 'read' });
  });
});
