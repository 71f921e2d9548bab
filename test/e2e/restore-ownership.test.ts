/**
 * A restore over a database pgstore set up leaves it as setup made it: owners, privileges and
 * default privileges of every schema, table, sequence and function, and the database's own
 * owner, grants, comment and settings (ALTER DATABASE ... SET, ALTER ROLE ... IN DATABASE ...
 * SET), both with --clean over it and with --create into a new database. Afterwards
 * `migrate status`, `migrate` and `setup` work, and the application role still reads and
 * writes what it could (and still may not create tables).
 * The commands run through the CLI's entry in-process (pgstoreInProcessDirect: same parsing, output
 * and exit codes, no node start-up each, the client programs named directly); backup.test.ts and
 * restore.test.ts run them through the binary.
 */
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminUrlFor } from '../helpers/db.js';
import { pgstoreInProcessDirect as pgstore, tempDir } from './backup-helpers.js';

const dir = tempDir('restore-own');
const suffix = Math.random().toString(16).slice(2, 8);
const name = `own_${suffix}`;
const copy = `own_copy_${suffix}`;
const url = adminUrlFor(name);
const appPassword = 'app-secret-for-tests';
const env = { PGSTORE_APP_PASSWORD: appPassword };

function adminSql() {
  return rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
}

afterAll(async () => {
  const admin = adminSql();
  for (const db of [name, copy]) await admin.unsafe(`drop database if exists "${db}" with (force)`);
  for (const role of [`${name}_owner`, `${name}_app`]) await admin.unsafe(`drop role if exists "${role}"`);
  await admin.end();
});

/** Owners and ACLs of everything in `database`, its default privileges, and its database-level properties. */
async function privileges(database: string): Promise<Record<string, unknown>> {
  const admin = adminSql();
  const sql = rawSql(adminUrlFor(database), { max: 1, onnotice: () => undefined });
  try {
    const [db] =
      await admin`select pg_get_userbyid(datdba) as owner, datacl::text as acl, shobj_description(oid, 'pg_database') as comment,
                                    (select array_agg(coalesce(pg_get_userbyid(setrole), '') || ':' || setconfig::text order by 1) from pg_db_role_setting where setdatabase = d.oid)::text as settings
                               from pg_database d where datname = ${database}`;
    const schemas =
      await sql`select nspname || ' ' || pg_get_userbyid(nspowner) || ' ' || coalesce(nspacl::text, '') as x from pg_namespace
                               where nspname not in ('pg_catalog', 'information_schema', 'pg_toast') order by 1`;
    const relations =
      await sql`select n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || pg_get_userbyid(c.relowner) || ' ' || coalesce(c.relacl::text, '') as x
                                  from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                 where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and c.relkind in ('r', 'p', 'S', 'v', 'm', 'f') order by 1`;
    const functions =
      await sql`select p.oid::regprocedure::text || ' ' || pg_get_userbyid(p.proowner) || ' ' || coalesce(p.proacl::text, '') as x
                                  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                                 where n.nspname not in ('pg_catalog', 'information_schema') order by 1`;
    const defaults =
      await sql`select pg_get_userbyid(d.defaclrole) || ' ' || coalesce(n.nspname, '') || ' ' || d.defaclobjtype::text || ' ' || d.defaclacl::text as x
                                 from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace order by 1`;
    const pick = (rows: Array<{ x: string }>) => rows.map((r) => r.x);
    return {
      database: db,
      schemas: pick(schemas as never),
      relations: pick(relations as never),
      functions: pick(functions as never),
      defaults: pick(defaults as never),
    };
  } finally {
    await sql.end();
    await admin.end();
  }
}

/** What the application role may do: read, write, and (not) create. */
async function appCan(database: string): Promise<Record<string, unknown>> {
  const u = new URL(adminUrlFor(database));
  u.username = `${name}_app`;
  u.password = appPassword;
  const sql = rawSql(u.toString(), { max: 1, onnotice: () => undefined });
  const attempt = async (fn: () => Promise<unknown>) =>
    fn().then(
      () => 'ok',
      (e: { code?: string }) => e.code ?? 'error',
    );
  try {
    return {
      insert: await attempt(() => sql`insert into auth.users (email) values (${`app-${Math.random()}@example.com`})`),
      select: await attempt(() => sql`select count(*) from auth.users`),
      update: await attempt(() => sql`update tenancy.tenants set name = name`),
      create: await attempt(() => sql`create table auth.sneaky (x int)`),
      workMem: (await sql`select current_setting('work_mem') as w`)[0]!.w,
      searchPath: (await sql`select current_setting('search_path') as p`)[0]!.p,
    };
  } finally {
    await sql.end();
  }
}

beforeAll(async () => {
  const r = await pgstore(url, ['setup', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  const admin = adminSql();
  await admin.unsafe(`alter database "${name}" set search_path = public, auth`);
  await admin.unsafe(`comment on database "${name}" is 'pgstore''s app; restored with care'`);
  await admin.unsafe(`alter role "${name}_app" in database "${name}" set work_mem = '7MB'`);
  await admin.end();
  const sql = rawSql(url, { max: 1 });
  await sql`insert into auth.users (email) values ('before@example.com')`;
  await sql`insert into tenancy.tenants (id, name) values ('t1', 'Tenant 1')`;
  await sql.end();
  const b = await pgstore(url, ['backup', '--dir', dir]);
  expect(b.code, b.stderr).toBe(0);
}, 120_000);

describe('restore over a database pgstore set up', () => {
  it('restore latest --clean --yes keeps owners, privileges, default privileges and database properties; migrate and setup still work', async () => {
    const before = await privileges(name);
    const canBefore = await appCan(name);
    expect(canBefore).toMatchObject({
      insert: 'ok',
      select: 'ok',
      update: 'ok',
      create: '42501',
      workMem: '7MB',
      searchPath: 'public, auth',
    });
    const r = await pgstore(url, ['restore', 'latest', '--dir', dir, '--clean', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'replaced', owners: { kept: true, unusableRoles: [] } });
    expect(await privileges(name)).toEqual(before);
    expect(await appCan(name)).toEqual(canBefore);
    for (const args of [['migrate', 'status'], ['migrate'], ['migrate', 'up'], ['setup']]) {
      const run = await pgstore(url, args, env);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
    }
    expect(await privileges(name)).toEqual(before);
  });

  it('--create into a new database gives it the archive owner, grants, comment and settings', async () => {
    const before = await privileges(name);
    const r = await pgstore(url, ['restore', 'latest', '--dir', dir, '--target-db', copy, '--create', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'created', owners: { kept: true } });
    expect(await privileges(copy)).toEqual(before);
    expect(await appCan(copy)).toMatchObject({
      insert: 'ok',
      select: 'ok',
      update: 'ok',
      create: '42501',
      workMem: '7MB',
      searchPath: 'public, auth',
    });
    const status = await pgstore(adminUrlFor(copy), ['migrate', 'status', '--exit-code']);
    expect(status.code, status.stderr).toBe(0);
  });

  it('--no-owner gives everything to the restoring role, and says so', async () => {
    const target = `${copy}_n`;
    try {
      const r = await pgstore(url, [
        'restore',
        'latest',
        '--dir',
        dir,
        '--target-db',
        target,
        '--create',
        '--no-owner',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).owners).toEqual({ kept: false, unusableRoles: [] });
      const owners = (await privileges(target)).relations as string[];
      expect(owners.every((x) => x.split(' ')[2] === inject('pgServer').user)).toBe(true);
    } finally {
      const admin = adminSql();
      await admin.unsafe(`drop database if exists "${target}" with (force)`);
      await admin.end();
    }
  });

  it('owners that are missing are reported and their objects go to the restoring role; --owner refuses up front', async () => {
    const source = `own_src_${suffix}`;
    const ghost = `ghost_${suffix}`;
    const targets = [`${copy}_g`, `${copy}_k`];
    const admin = adminSql();
    try {
      await admin.unsafe(`create role "${ghost}"`);
      await admin.unsafe(`create database "${source}"`);
      const src = rawSql(adminUrlFor(source), { max: 1, onnotice: () => undefined });
      await src.unsafe(
        `create table public.haunted (x int); insert into public.haunted values (1); alter table public.haunted owner to "${ghost}"; create table public.plain (y int)`,
      );
      await src.end();
      const b = await pgstore(adminUrlFor(source), ['backup', '--dir', dir, '--json']);
      expect(b.code, b.stderr).toBe(0);
      const backup = JSON.parse(b.stdout).path as string;
      await admin.unsafe(`drop database "${source}" with (force)`);
      await admin.unsafe(`drop role "${ghost}"`);

      const r = await pgstore(url, ['restore', backup, '--target-db', targets[0]!, '--create', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).owners).toEqual({ kept: false, unusableRoles: [ghost] });
      const human = await pgstore(url, ['restore', backup, '--target-db', targets[0]!, '--clean', '--yes']);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stderr).toContain(`owners not restored: the restoring role cannot give objects to ${ghost}`);
      const keep = await pgstore(url, ['restore', backup, '--target-db', targets[1]!, '--create', '--owner']);
      expect(keep.code).toBe(2);
      expect(keep.stderr).toContain(`the dump's objects belong to a role this restore cannot give them to: ${ghost}`);
      expect(
        (
          await admin`select 1 from pg_database where datname = ${targets[1]!} or datname like ${`${targets[1]!}_pgstore_%`}`
        ).length,
      ).toBe(0);
    } finally {
      for (const db of [source, ...targets]) await admin.unsafe(`drop database if exists "${db}" with (force)`);
      await admin.unsafe(`drop role if exists "${ghost}"`);
      await admin.end();
    }
  });
});
