/**
 * Cluster administration: databases, roles, extensions, grants and sessions. Identifiers are
 * always quoted with sql(name); nothing here builds SQL from unquoted input.
 */
import type { Db } from '../../db/pool.js';
import { scramVerifier } from '../../util/scram.js';
import { grantHostsAccess } from '../hosts/index.js';

export interface Privileges {
  user: string;
  superuser: boolean;
  createDb: boolean;
  createRole: boolean;
}

/** What the connecting role may do. */
export async function currentPrivileges(sql: Db): Promise<Privileges> {
  const [row] = await sql<{ user: string; superuser: boolean; createdb: boolean; createrole: boolean }[]>`
    select current_user as user, rolsuper as superuser, rolcreatedb as createdb, rolcreaterole as createrole
      from pg_roles where rolname = current_user`;
  return { user: row!.user, superuser: row!.superuser, createDb: row!.createdb, createRole: row!.createrole };
}

export async function databaseExists(sql: Db, name: string): Promise<boolean> {
  const rows = await sql`select 1 from pg_database where datname = ${name}`;
  return rows.length > 0;
}

export async function databaseOwner(sql: Db, name: string): Promise<string | null> {
  const [row] = await sql<
    { owner: string }[]
  >`select pg_get_userbyid(datdba) as owner from pg_database where datname = ${name}`;
  return row?.owner ?? null;
}

export async function createDatabase(sql: Db, name: string, owner: string): Promise<void> {
  await sql`create database ${sql(name)} owner ${sql(owner)} encoding 'UTF8' template template0`;
}

export async function dropDatabase(sql: Db, name: string, force: boolean): Promise<void> {
  if (force) await sql`drop database if exists ${sql(name)} with (force)`;
  else await sql`drop database if exists ${sql(name)}`;
}

export async function roleExists(sql: Db, name: string): Promise<boolean> {
  const rows = await sql`select 1 from pg_roles where rolname = ${name}`;
  return rows.length > 0;
}

/** Whether `member` may act as `role` (SET ROLE). */
export async function canBecome(sql: Db, member: string, role: string): Promise<boolean> {
  const [row] = await sql<{ ok: boolean }[]>`select pg_has_role(${member}, ${role}, 'MEMBER') as ok`;
  return !!row?.ok;
}

/** A role that cannot log in and owns the database and its objects. */
export async function createOwnerRole(sql: Db, name: string): Promise<void> {
  await sql`create role ${sql(name)} nologin`;
}

/**
 * A login role for the application. Only the SCRAM verifier of its password reaches the
 * server, so statement logs and pg_stat_statements never hold the password itself.
 */
export async function createLoginRole(sql: Db, name: string, password: string): Promise<void> {
  // CREATE ROLE takes no bind parameters: the verifier goes in as a quoted literal.
  await sql.unsafe(`create role ${quoteIdent(name)} login password ${quoteLiteral(scramVerifier(password))}`);
}

export async function grantRole(sql: Db, role: string, to: string): Promise<void> {
  await sql`grant ${sql(role)} to ${sql(to)}`;
}

export async function createExtension(sql: Db, name: string): Promise<boolean> {
  const before = await sql`select 1 from pg_extension where extname = ${name}`;
  if (before.length) return false;
  await sql`create extension if not exists ${sql(name)} with schema public`;
  return true;
}

/**
 * Least privilege for the application role: data access (select, insert, update, delete) on
 * the application schemas, sequences and functions, read-only on pgstore's metadata; no DDL.
 * Default privileges extend this to tables the owner creates later. The hosts schema is the
 * exception: the role writes there only through the event log (see hosts-grants.ts).
 */
export async function grantAppAccess(
  sql: Db,
  options: { database: string; app: string; owner: string; schemas: string[] },
): Promise<void> {
  const { app, owner } = options;
  await sql`grant connect, temporary on database ${sql(options.database)} to ${sql(app)}`;
  for (const schema of options.schemas) {
    const exists = await sql`select 1 from pg_namespace where nspname = ${schema}`;
    if (!exists.length) continue;
    if (schema === 'hosts') {
      await grantHostsAccess(sql, { app, owner });
      continue;
    }
    await sql`grant usage on schema ${sql(schema)} to ${sql(app)}`;
    await sql`grant select, insert, update, delete on all tables in schema ${sql(schema)} to ${sql(app)}`;
    await sql`grant usage, select on all sequences in schema ${sql(schema)} to ${sql(app)}`;
    await sql`grant execute on all functions in schema ${sql(schema)} to ${sql(app)}`;
    await sql`alter default privileges for role ${sql(owner)} in schema ${sql(schema)} grant select, insert, update, delete on tables to ${sql(app)}`;
    await sql`alter default privileges for role ${sql(owner)} in schema ${sql(schema)} grant usage, select on sequences to ${sql(app)}`;
    await sql`alter default privileges for role ${sql(owner)} in schema ${sql(schema)} grant execute on functions to ${sql(app)}`;
  }
  const meta = await sql`select 1 from pg_namespace where nspname = 'pgstore'`;
  if (meta.length) {
    await sql`grant usage on schema pgstore to ${sql(app)}`;
    await sql`grant select on all tables in schema pgstore to ${sql(app)}`;
    await sql`grant execute on all functions in schema pgstore to ${sql(app)}`;
  }
  // No DDL anywhere: not even in public (see revokePublicCreate for a grant to PUBLIC).
  await sql`revoke create on schema public from ${sql(app)}`;
}

/**
 * The public schema as PostgreSQL 15 makes it: owned by the database's owner, and no CREATE
 * for PUBLIC. 14 and older give it to the bootstrap superuser with CREATE for PUBLIC (as does a
 * database restored from one), which lets every role, the application's included, create
 * tables there. The owner is changed only from the bootstrap superuser (needs a superuser);
 * the revoke needs the schema's owner. Says whether PUBLIC may still create there.
 */
export async function securePublicSchema(sql: Db, databaseOwner: string): Promise<{ stillGranted: boolean }> {
  const state = async () => {
    const [row] = await sql<{ bootstrapOwned: boolean; granted: boolean; superuser: boolean }[]>`
      select n.nspowner = 10 as "bootstrapOwned",
             exists (select 1 from aclexplode(n.nspacl) a where a.grantee = 0 and a.privilege_type = 'CREATE') as granted,
             (select rolsuper from pg_roles where rolname = current_user) as superuser
        from pg_namespace n where n.nspname = 'public'`;
    return row;
  };
  const before = await state();
  if (!before) return { stillGranted: false };
  if (before.bootstrapOwned && before.superuser) await sql`alter schema public owner to ${sql(databaseOwner)}`;
  if (!before.granted) return { stillGranted: false };
  // Without the right to, REVOKE only warns ("no privileges could be revoked"): checked below.
  await sql`revoke create on schema public from public`;
  return { stillGranted: (await state())!.granted };
}

export interface SessionInfo {
  pid: number;
  user: string;
  application: string;
  client: string | null;
  state: string | null;
  since: Date | null;
}

/** Other sessions connected to a database. */
export async function otherSessions(sql: Db, database: string): Promise<SessionInfo[]> {
  return sql<SessionInfo[]>`
    select pid, usename as user, coalesce(application_name, '') as application, client_addr::text as client,
           state, backend_start as since
      from pg_stat_activity
     where datname = ${database} and pid <> pg_backend_pid() and backend_type = 'client backend'
     order by backend_start`;
}

export async function terminateSessions(sql: Db, database: string): Promise<number> {
  const rows = await sql`
    select pg_terminate_backend(pid) from pg_stat_activity
     where datname = ${database} and pid <> pg_backend_pid()`;
  return rows.length;
}

/** Drops the given schemas and everything in them. */
export async function dropSchemas(sql: Db, schemas: string[]): Promise<void> {
  for (const schema of schemas) await sql`drop schema if exists ${sql(schema)} cascade`;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Tables, views, sequences and functions outside the system schemas (0: an empty database). */
export async function userObjectCount(sql: Db): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg_temp%'
               and n.nspname not like 'pg_toast_temp%')::int
         + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname not in ('pg_catalog', 'information_schema'))::int as n`;
  return row?.n ?? 0;
}

export async function setDatabaseOwner(sql: Db, database: string, owner: string): Promise<void> {
  await sql`alter database ${sql(database)} owner to ${sql(owner)}`;
}

/** Acts as `role` for the rest of this session. */
export async function setRole(sql: Db, role: string): Promise<void> {
  await sql`set role ${sql(role)}`;
}

export interface SessionFacts {
  /** The current database's owner. */
  owner: string;
  /** Whether the connected user may act as the owner. */
  canBecomeOwner: boolean;
  /** Whether this session is encrypted. */
  ssl: boolean;
  /** Whether the session user may set superuser-only settings (lc_messages) at connection. */
  superuser: boolean;
  /** current_schema(): where an unqualified `create table` lands (for the current role). */
  schema: string | null;
}

export type FactsRow = { owner: string; member: boolean; ssl: boolean; superuser: boolean; schema: string | null };

/** sessionFacts' query: no parameters, so that it can be one statement of a simple query. */
export const SESSION_FACTS_SQL = `
    select pg_get_userbyid(d.datdba) as owner, current_schema() as schema,
           (select rolsuper from pg_roles where rolname = session_user) as superuser,
           pg_has_role(current_user, d.datdba, 'MEMBER') as member,
           coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false) as ssl
      from pg_database d where d.datname = current_database()`;

export const factsOf = (row: FactsRow): SessionFacts => ({
  owner: row.owner,
  canBecomeOwner: row.member,
  ssl: row.ssl,
  superuser: !!row.superuser,
  schema: row.schema,
});

/** Owner, membership, encryption and current schema of the session, in one round trip. */
export async function sessionFacts(sql: Db): Promise<SessionFacts> {
  const [row] = await sql.unsafe<FactsRow[]>(SESSION_FACTS_SQL);
  return factsOf(row!);
}
