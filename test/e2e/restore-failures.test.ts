/**
 * A restore that fails at any step leaves its target exactly as it was, on all three paths
 * (--create into a missing database, into an existing empty one, --clean over one holding
 * data), and leaves no scratch database behind; the next good restore then succeeds.
 * Failures injected: a corrupted archive, a row count that differs from the manifest,
 * pg_restore killed by a signal, and a statement that fails mid-way (with --jobs 2, where the
 * load is not one transaction).
 *
 * `npm test` runs each path once and each failure once (a rotating subset of the 3 × 4 matrix:
 * matrix() in test/stress/harness.ts); `npm run stress` runs the whole matrix.
 * The commands run through the CLI's entry in-process (pgstoreInProcessDirect: same parsing, output
 * and exit codes, no node start-up each, the client programs named directly); restore.test.ts runs
 * restore through the binary.
 */
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminUrlFor, createTestDatabase, useTestDatabase } from '../helpers/db.js';
import { matrix } from '../stress/harness.js';
import {
  cloneBackup,
  databaseTracker,
  fingerprint,
  PG_BIN,
  pgstoreInProcessDirect as pgstore,
  seed,
  tempDir,
} from './backup-helpers.js';

const db = useTestDatabase();
const dbs = databaseTracker();
const dir = tempDir('restore-fail');

/** Another backup labelled `label` (a copy of `from`: cloneBackup), which `damage` then changes in its folder; returns its ID. */
function damagedBackup(from: string, label: string, damage: (folder: string) => void): string {
  const { id, path } = cloneBackup(from, label);
  damage(path);
  return id;
}

let good = '';
let corrupt = '';
let badCounts = '';
let midway = '';
let killer = '';

beforeAll(async () => {
  await seed(db.sql, 200);
  // A CHECK whose function reads a setting that only the inserting session had: pg_restore's
  // COPY into public.checked fails, after other tables' rows are already in.
  await db.sql.begin(async (tx) => {
    await tx.unsafe(`
      create function public.allowed(x int) returns boolean language sql stable as $$ select coalesce(current_setting('pgstore_test.allow', true), '') = 'yes' $$;
      create table public.checked (x int check (public.allowed(x)));
      set local pgstore_test.allow = 'yes';
      insert into public.checked select generate_series(1, 50);`);
  });
  const withTrap = await pgstore(db.url, ['backup', '--dir', dir, '--label', 'trap', '--json']);
  expect(withTrap.code, withTrap.stderr).toBe(0);
  midway = JSON.parse(withTrap.stdout).id;
  await db.sql.unsafe('drop table public.checked; drop function public.allowed(int)');
  const r = await pgstore(db.url, ['backup', '--dir', dir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  good = JSON.parse(r.stdout).id;
  const goodPath = JSON.parse(r.stdout).path;
  corrupt = damagedBackup(goodPath, 'corrupt', (folder) => {
    const dump = join(folder, 'backup.dump');
    const fd = openSync(dump, 'r+');
    const at = Math.floor(statSync(dump).size / 2);
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0x10;
    writeSync(fd, byte, 0, 1, at);
    closeSync(fd);
  });
  badCounts = damagedBackup(goodPath, 'counts', (folder) => {
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'));
    manifest.tables.find((t: { name: string }) => t.name === 'users').rows += 1;
    writeFileSync(join(folder, 'manifest.json'), JSON.stringify(manifest));
  });
  // A pg_restore that is killed by a signal while it loads.
  killer = join(dir, 'killer');
  mkdirSync(killer);
  writeFileSync(
    join(killer, 'pg_restore'),
    `#!/bin/sh\ncase "$*" in\n*--dbname=*) ${PG_BIN}/pg_restore "$@" & child=$!; sleep 0.15; kill -KILL $child 2>/dev/null; wait $child; kill -KILL $$;;\nesac\nexec ${PG_BIN}/pg_restore "$@"\n`,
  );
  chmodSync(join(killer, 'pg_restore'), 0o755);
}, 120_000);

interface TargetState {
  exists: boolean;
  oid?: number;
  database?: unknown;
  objects?: unknown;
  tables?: unknown;
}

/** Everything about a database a restore might change (short-lived connections only). */
async function stateOf(name: string): Promise<TargetState> {
  const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
  try {
    const [row] =
      await admin`select oid::int as oid, pg_get_userbyid(datdba) as owner, datacl::text as acl, shobj_description(oid, 'pg_database') as comment,
                                     (select array_agg(coalesce(pg_get_userbyid(setrole), '') || ':' || setconfig::text order by setrole) from pg_db_role_setting where setdatabase = d.oid)::text as settings
                                from pg_database d where datname = ${name}`;
    if (!row) return { exists: false };
    const { oid, ...database } = row;
    const sql = rawSql(adminUrlFor(name), { max: 1, onnotice: () => undefined });
    try {
      const objects =
        await sql`select n.nspname || '.' || c.relname || ':' || c.relkind::text || ':' || pg_get_userbyid(c.relowner) || ':' || coalesce(c.relacl::text, '') as o
                                  from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                 where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_' order by 1`;
      return { exists: true, oid, database, objects: objects.map((o) => o.o), tables: await fingerprint(sql) };
    } finally {
      await sql.end();
    }
  } finally {
    await admin.end();
  }
}

async function scratchLeft(name: string): Promise<string[]> {
  const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
  try {
    return (await admin`select datname from pg_database where datname like ${`${name}_pgstore_%`}`).map(
      (r) => r.datname as string,
    );
  } finally {
    await admin.end();
  }
}

type Path = 'create' | 'empty' | 'clean';

/** The targets of the clean path (createTestDatabase), dropped after the file. */
const copies: Array<{ drop(): Promise<void> }> = [];
afterAll(async () => {
  for (const copy of copies) await copy.drop();
});

/** A target in the state `path` starts from. */
async function prepare(path: Path): Promise<{ name: string; args: string[] }> {
  if (path === 'clean') {
    // One holding data: pgstore's schema (a copy of the template, as the source database is)
    // and a row, without a restore to make it.
    const copy = await createTestDatabase();
    await copy.sql`insert into tenancy.tenants (id, name) values ('later', 'Added later')`;
    await copy.sql.end();
    copies.push(copy);
    return { name: copy.name, args: ['--clean', '--yes'] };
  }
  const target = dbs.name(`rf_${path}`);
  if (path === 'create') return { name: target.name, args: ['--create'] };
  const admin = rawSql(inject('pgServer').adminUrl, { max: 1 });
  await admin.unsafe(`create database "${target.name}"`);
  await admin.unsafe(`alter database "${target.name}" set work_mem = '9MB'`);
  await admin.end();
  return { name: target.name, args: [] };
}

const injections: Array<{
  name: string;
  source: () => string;
  extra: string[];
  env?: () => Record<string, string>;
  error: RegExp;
}> = [
  { name: 'a corrupted archive', source: () => corrupt, extra: [], error: /does not match its sha256 checksum/ },
  {
    name: 'row counts that differ from the manifest',
    source: () => badCounts,
    extra: [],
    error: /row counts differ from the backup's manifest/,
  },
  {
    name: 'pg_restore killed by a signal',
    source: () => good,
    extra: [],
    env: () => ({ PGSTORE_PG_BIN: killer }),
    error: /pg_restore (was killed|.*signal|.*SIGKILL)/i,
  },
  {
    name: 'a statement failing mid-way (--jobs 2)',
    source: () => midway,
    extra: ['--jobs', '2'],
    error: /violates check constraint/,
  },
];

// Each case has a target of its own and only reads the shared backups: they run side by side.
describe.concurrent('a failed restore leaves its target as it was', () => {
  for (const [path, injection] of matrix(['create', 'empty', 'clean'] as const, injections)) {
    it(`${path}: ${injection.name}`, async () => {
      const target = await prepare(path);
      const before = await stateOf(target.name);
      const r = await pgstore(
        db.url,
        ['restore', injection.source(), '--dir', dir, '--target-db', target.name, ...target.args, ...injection.extra],
        injection.env?.() ?? {},
      );
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(injection.error);
      expect(await stateOf(target.name)).toEqual(before);
      expect(await scratchLeft(target.name)).toEqual([]);
      // Nothing in the way of the next good restore.
      const next = await pgstore(db.url, [
        'restore',
        good,
        '--dir',
        dir,
        '--target-db',
        target.name,
        ...target.args,
        '--json',
      ]);
      expect(next.code, next.stderr).toBe(0);
      expect(JSON.parse(next.stdout)).toMatchObject({ rowCountsMatch: true });
      expect(await scratchLeft(target.name)).toEqual([]);
    }, 60_000);
  }
});

describe('an empty target that gains objects during the restore', () => {
  it('is left alone (exit 3), not swapped out and dropped', async () => {
    const target = await prepare('empty');
    // pg_restore that, once the scratch copy is loaded, creates a table in the (empty) target.
    const late = join(dir, `late-${target.name}`);
    mkdirSync(late);
    writeFileSync(
      join(late, 'pg_restore'),
      `#!/bin/sh\ncase "$*" in\n*--dbname=*) ${PG_BIN}/pg_restore "$@" || exit $?; ${PG_BIN}/psql -X -q -d "${target.name}" -c 'create table public.arrived_late (x int)' || exit 9; exit 0;;\nesac\nexec ${PG_BIN}/pg_restore "$@"\n`,
    );
    chmodSync(join(late, 'pg_restore'), 0o755);
    const r = await pgstore(db.url, ['restore', good, '--dir', dir, '--target-db', target.name], {
      PGSTORE_PG_BIN: late,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('objects were created in it since');
    const after = await stateOf(target.name);
    expect(after.objects).toEqual([expect.stringMatching(/^public\.arrived_late:r:/)]);
    expect(await scratchLeft(target.name)).toEqual([]);
  }, 60_000);
});
