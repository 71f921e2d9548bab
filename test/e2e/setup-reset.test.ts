/**
 * `pgstore setup` and `pgstore reset`: what they create, refuse and report.
 * The cases run the CLI's entry in-process (test/helpers/cli-in-process.ts: same parsing,
 * output and exit codes, no node start-up each); one setup and one reset run through the built binary.
 */
import { randomBytes } from 'node:crypto';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { adminUrlFor } from '../helpers/db.js';
import { inject } from 'vitest';
import { MIGRATION_COUNT } from '../helpers/migrations.js';

const created: string[] = [];
const roles: string[] = [];

function newDatabase(): { name: string; url: string } {
  const name = `s_${randomBytes(5).toString('hex')}`;
  created.push(name);
  roles.push(`${name}_owner`, `${name}_app`);
  return { name, url: adminUrlFor(name) };
}

function admin() {
  return rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
}

afterAll(async () => {
  const sql = admin();
  for (const name of created) await sql.unsafe(`drop database if exists ${name} with (force)`);
  for (const role of roles) await sql.unsafe(`drop role if exists ${role}`);
  await sql.unsafe('drop role if exists limited_user');
  await sql.end();
});

const run = (url: string, args: string[], extra: Record<string, string> = {}, cli = runCliInProcess) =>
  cli(args, { env: cleanEnv({ DATABASE_URL: url, ...extra }) });

/**
 * A database set up for development, shared by the tests that need one as their starting point
 * (each setup runs every migration from scratch); each of them leaves it set up again.
 */
let setUp: Promise<{ name: string; url: string }> | undefined;
const setUpDatabase = () =>
  (setUp ??= (async () => {
    const db = newDatabase();
    const r = await run(db.url, ['setup']);
    expect(r.code, r.stderr).toBe(0);
    return db;
  })());

describe('pgstore setup', () => {
  it('creates the database, roles, extensions and schema; a second run changes nothing', async () => {
    const db = newDatabase();
    const first = await run(db.url, ['setup', '--json'], {}, runCli);
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({
      database: db.name,
      databaseCreated: true,
      roles: [
        { name: `${db.name}_owner`, purpose: 'owner', created: true },
        { name: `${db.name}_app`, purpose: 'application', created: true },
      ],
      appPasswordSource: 'generated',
      extensionsCreated: ['pg_trgm'],
      environment: 'development',
      changed: true,
    });
    expect(result.migrationsApplied).toHaveLength(MIGRATION_COUNT);
    expect(result.appPassword).toMatch(/^[\w-]{20,}$/);

    const again = await run(db.url, ['setup']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Nothing to do: .* is set up \(development\)/);
    expect(again.stdout + again.stderr).not.toContain(result.appPassword);

    // Objects belong to the owner role.
    const sql = rawSql(db.url, { max: 1 });
    const owners =
      await sql`select distinct tableowner from pg_tables where schemaname in ('auth', 'tenancy', 'hosts', 'pgstore')`;
    expect(owners.map((o) => o.tableowner)).toEqual([`${db.name}_owner`]);
    await sql.end();

    // The application role: data access, no DDL.
    const appUrl = new URL(db.url);
    appUrl.username = `${db.name}_app`;
    appUrl.password = result.appPassword;
    const app = rawSql(appUrl.toString(), { max: 1, onnotice: () => undefined });
    try {
      const [user] = await app`insert into auth.users (email, name) values ('a@example.com', 'A') returning id`;
      expect(user!.id).toMatch(/^[0-9a-f-]{36}$/);
      await app`insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, event, created_at)
                values ('e1', 'h1', 'HostCreated', 'v1', ${app.json({ type: 'HostCreated', ipAddress: '10.0.0.1', hostname: 'a.test', tags: [] })}, now())`;
      expect(await app`select hostname from hosts.hosts`).toEqual([{ hostname: 'a.test' }]);
      for (const ddl of [
        'create table auth.sneaky (x int)',
        'create table public.sneaky (x int)',
        'drop table auth.users',
        'alter table auth.users add column x int',
        'truncate auth.users',
      ]) {
        await expect(app.unsafe(ddl), ddl).rejects.toMatchObject({ code: expect.stringMatching(/^42501$/) });
      }
      await expect(app`insert into pgstore.environment (name) values ('test')`).rejects.toMatchObject({
        code: '42501',
      });
    } finally {
      await app.end();
    }
  });

  it('takes the application password from PGSTORE_APP_PASSWORD and never prints it', async () => {
    const db = newDatabase();
    const result = await run(db.url, ['setup', '--env', 'test'], { PGSTORE_APP_PASSWORD: 'from-the-env-123' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('from-the-env-123');
    expect(result.stdout).toMatch(/PGSTORE_APP_PASSWORD/);
    const appUrl = new URL(db.url);
    appUrl.username = `${db.name}_app`;
    appUrl.password = 'from-the-env-123';
    const app = rawSql(appUrl.toString(), { max: 1 });
    expect(await app`select name from pgstore.environment`).toEqual([{ name: 'test' }]);
    await app.end();
  });

  it('says what is missing when the user may not create databases or roles', async () => {
    const sql = admin();
    await sql.unsafe("create role limited_user login password 'limited-pw'");
    await sql.end();
    const db = newDatabase();
    const url = new URL(db.url);
    url.username = 'limited_user';
    url.password = 'limited-pw';
    const result = await run(url.toString(), ['setup']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /role 'limited_user' may not set up .*: it lacks CREATEROLE \(to create .*_owner and .*_app\) and CREATEDB \(to create database s_/,
    );
    expect(result.stderr).not.toContain('limited-pw');
  });
});

describe('pgstore setup on a public schema shaped by PostgreSQL 14', () => {
  it('hands the schema to the owner and takes CREATE back from PUBLIC, as 15 does: the application role creates nothing there', async () => {
    const db = newDatabase();
    const sql = admin();
    await sql.unsafe(`create database ${db.name}`);
    await sql.end();
    // PostgreSQL 14's defaults (and a database restored from 14): the bootstrap superuser owns
    // public, and PUBLIC may create in it.
    const inDb = rawSql(db.url, { max: 1, onnotice: () => undefined });
    await inDb.unsafe(
      `alter schema public owner to ${inject('pgServer').user}; grant create on schema public to public`,
    );
    const first = await run(db.url, ['setup', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toMatch(/Warning/);
    const [schema] =
      await inDb`select nspowner::regrole::text as owner, nspacl::text as acl from pg_namespace where nspname = 'public'`;
    await inDb.end();
    expect(schema!.owner).toBe(`${db.name}_owner`);
    expect(schema!.acl).not.toMatch(/(^|[{,])=[^,}]*C/);
    const appUrl = new URL(db.url);
    appUrl.username = `${db.name}_app`;
    appUrl.password = JSON.parse(first.stdout).appPassword;
    const app = rawSql(appUrl.toString(), { max: 1, onnotice: () => undefined });
    try {
      await expect(app.unsafe('create table public.sneaky (x int)')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await app.end();
    }
  });
});

describe('pgstore reset', () => {
  it('refuses without a terminal and --yes, leaving the database alone', async () => {
    const db = await setUpDatabase();
    const sql = rawSql(db.url, { max: 1 });
    await sql`insert into auth.users (email) values ('keep@example.com')`;
    await sql.end();
    const refused = await run(db.url, ['reset']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /About to drop and recreate the database on postgres@127\.0\.0\.1:\d+\/s_\w+ \(development\)/,
    );
    expect(refused.stderr).toMatch(/refusing to drop and recreate the database without confirmation/);
    const check = rawSql(db.url, { max: 1 });
    expect(await check`select email from auth.users`).toEqual([{ email: 'keep@example.com' }]);
    await check.end();

    const reset = await run(db.url, ['reset', '--yes'], {}, runCli);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/Dropped the database/);
    const after = rawSql(db.url, { max: 1 });
    expect(await after`select count(*)::int as n from auth.users`).toEqual([{ n: 0 }]);
    await after.end();
  });

  it('--seed on a brand-new database: everything the data set has is created by this run, nothing "already there"', async () => {
    const db = newDatabase();
    const r = await run(db.url, ['setup', '--seed']);
    expect(r.code, r.stderr).toBe(0);
    // The migrations make the built-in roles, and a new user gets the `user` role: no puzzle
    // of "8 already there" on a database made a second ago.
    expect(r.stdout).toMatch(/^Seeded the development data set: \d+ created \(\d+ ms\)\.$/m);
    expect(r.stdout).not.toMatch(/already there|skipped:/);
    expect(r.stdout).toMatch(/created: .*role user for admin@example\.com/);
  });

  it('refuses a production database even with --yes, unless --force-production', async () => {
    const db = newDatabase();
    expect((await run(db.url, ['setup', '--env', 'production'])).code).toBe(0);
    // A later setup keeps the marker; changing it needs --force-production.
    const again = await run(db.url, ['setup']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/set up \(production\)/);
    const unmark = await run(db.url, ['setup', '--env', 'development']);
    expect(unmark.code).toBe(2);
    expect(unmark.stderr).toMatch(/it is marked as production/);
    const seeded = await run(db.url, ['setup', '--seed']);
    expect(seeded.code).toBe(2);
    const refused = await run(db.url, ['reset', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/it is marked as production/);
    expect(refused.stderr).toMatch(/--force-production/);
    const forced = await run(db.url, ['reset', '--yes', '--force-production', '--schemas-only']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/Dropped the pgstore schemas/);
  });

  it('lists other sessions and terminates them only with --force', async () => {
    const db = await setUpDatabase();
    const other = rawSql(db.url, { max: 1, connection: { application_name: 'someone-else' } });
    await other`select 1`;
    const refused = await run(db.url, ['reset', '--yes']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/1 other session is connected to s_\w+: pid \d+ \(postgres, someone-else\)/);
    const forced = await run(db.url, ['reset', '--yes', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/terminated 1 session/);
    await other.end({ timeout: 1 }).catch(() => undefined);
  });
});

describe("pgstore's own schema", () => {
  it('goes down to zero and up again', async () => {
    const db = await setUpDatabase();
    const down = await run(db.url, ['migrate', 'down', '--to', '0', '--yes']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(new RegExp(`Rolled back ${MIGRATION_COUNT} migration`));
    const sql = rawSql(db.url, { max: 1 });
    const schemas =
      await sql`select nspname from pg_namespace where nspname in ('auth', 'tenancy', 'hosts', 'pgstore')`;
    expect(schemas).toEqual([]);
    const functions =
      await sql`select proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'`;
    expect(functions).toEqual([]);
    await sql.end();
    const up = await run(db.url, ['migrate']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`Applied ${MIGRATION_COUNT} migration`));
  });
});
