/**
 * Database-level work for restores: a database's properties (owner, encoding, locale, grants,
 * settings), creating a database like another, the atomic swap of a restored copy into place,
 * and which roles exist. Identifiers are always quoted; nothing is built from unquoted input.
 */
import type { Db } from '../../db/pool.js';
import { guard } from '../map-error.js';

export interface DatabaseProperties {
  name: string;
  owner: string;
  encoding: string;
  collate: string;
  ctype: string;
  allowConnections: boolean;
  connectionLimit: number;
  /** Database privileges: GRANT privilege ON DATABASE ... TO grantee. */
  grants: Array<{ grantee: string; privilege: string; grantable: boolean }>;
  /** ALTER DATABASE ... SET (role null) and ALTER ROLE ... IN DATABASE ... SET entries ("name=value"). */
  settings: Array<{ role: string | null; config: string[] }>;
  comment: string | null;
}

const ctx = { entity: 'database' };

/** The properties of a database, or null when it does not exist. */
export async function databaseProperties(sql: Db, name: string): Promise<DatabaseProperties | null> {
  return guard(ctx, async () => {
    const [row] = await sql<
      {
        owner: string;
        encoding: string;
        collate: string;
        ctype: string;
        allow: boolean;
        connlimit: number;
        comment: string | null;
        oid: number;
      }[]
    >`
      select d.oid::int as oid, pg_get_userbyid(d.datdba) as owner, pg_encoding_to_char(d.encoding) as encoding,
             d.datcollate as collate, d.datctype as ctype, d.datallowconn as allow, d.datconnlimit as connlimit,
             shobj_description(d.oid, 'pg_database') as comment
        from pg_database d where d.datname = ${name}`;
    if (!row) return null;
    const grants = await sql<{ grantee: string; privilege: string; grantable: boolean }[]>`
      select case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee) end as grantee,
             a.privilege_type as privilege, a.is_grantable as grantable
        from pg_database d, aclexplode(d.datacl) a
       where d.datname = ${name} and a.grantee <> d.datdba`;
    const settings = await sql<{ role: string | null; config: string[] }[]>`
      select case when s.setrole = 0 then null else pg_get_userbyid(s.setrole) end as role, s.setconfig as config
        from pg_db_role_setting s where s.setdatabase = ${row.oid}`;
    return {
      name,
      owner: row.owner,
      encoding: row.encoding,
      collate: row.collate,
      ctype: row.ctype,
      allowConnections: row.allow,
      connectionLimit: row.connlimit,
      grants: [...grants],
      settings: [...settings],
      comment: row.comment,
    };
  });
}

/** Creates database `name` from template0 with the given owner, encoding and locale. */
export async function createDatabaseFrom(
  sql: Db,
  name: string,
  like: Pick<DatabaseProperties, 'owner' | 'encoding' | 'collate' | 'ctype'>,
): Promise<void> {
  await guard(ctx, () =>
    sql.unsafe(
      `create database ${ident(name)} owner ${ident(like.owner)} template template0 encoding ${literal(like.encoding)} ` +
        `lc_collate ${literal(like.collate)} lc_ctype ${literal(like.ctype)}`,
    ),
  );
}

/** Gives database `name` the grants, settings, connection limit and comment of `props`. */
export async function copyDatabaseProperties(sql: Db, name: string, props: DatabaseProperties): Promise<void> {
  await guard(ctx, async () => {
    for (const g of props.grants) {
      const to = g.grantee === 'PUBLIC' ? 'public' : ident(g.grantee);
      await sql.unsafe(
        `grant ${g.privilege.toLowerCase()} on database ${ident(name)} to ${to}${g.grantable ? ' with grant option' : ''}`,
      );
    }
    if (!props.grants.some((g) => g.grantee === 'PUBLIC')) {
      // The source had revoked PUBLIC's default CONNECT/TEMPORARY: do the same.
      const [row] = await sql<
        { acl: string | null }[]
      >`select (select datacl::text from pg_database where datname = ${props.name}) as acl`;
      if (row?.acl) await sql.unsafe(`revoke all on database ${ident(name)} from public`);
    }
    for (const s of props.settings) {
      for (const entry of s.config) {
        const eq = entry.indexOf('=');
        const key = entry.slice(0, eq);
        const value = settingValue(key, entry.slice(eq + 1));
        const who = s.role ? `alter role ${ident(s.role)} in database ${ident(name)}` : `alter database ${ident(name)}`;
        await sql.unsafe(`${who} set ${ident(key)} to ${value}`);
      }
    }
    if (props.connectionLimit !== -1)
      await sql.unsafe(`alter database ${ident(name)} connection limit ${Number(props.connectionLimit)}`);
    if (props.comment !== null) await sql.unsafe(`comment on database ${ident(name)} is ${literal(props.comment)}`);
  });
}

/** List-valued settings, whose elements are quoted one by one (as pg_dumpall does). */
const LIST_SETTINGS = new Set([
  'search_path',
  'temp_tablespaces',
  'session_preload_libraries',
  'local_preload_libraries',
  'shared_preload_libraries',
]);

function settingValue(key: string, raw: string): string {
  if (!LIST_SETTINGS.has(key)) return literal(raw);
  const items = raw.match(/"(?:[^"]|"")*"|[^,\s][^,]*/g) ?? [];
  return items
    .map((item) =>
      literal(
        item
          .trim()
          .replace(/^"(.*)"$/, '$1')
          .replace(/""/g, '"'),
      ),
    )
    .join(', ');
}

/**
 * Puts `fresh` in the place of `target` in one transaction: target becomes `aside`, fresh
 * becomes target. Either both renames happen or neither.
 */
export async function swapDatabases(sql: Db, target: string, fresh: string, aside: string): Promise<void> {
  await guard(ctx, () =>
    sql.begin(async (tx) => {
      await tx.unsafe(`alter database ${ident(target)} rename to ${ident(aside)}`);
      await tx.unsafe(`alter database ${ident(fresh)} rename to ${ident(target)}`);
    }),
  );
}

/** Renames a database. */
export async function renameDatabase(sql: Db, from: string, to: string): Promise<void> {
  await guard(ctx, () => sql.unsafe(`alter database ${ident(from)} rename to ${ident(to)}`));
}

/** Allows or refuses new connections to a database. */
export async function setAllowConnections(sql: Db, name: string, allow: boolean): Promise<void> {
  await guard(ctx, () =>
    sql.unsafe(`alter database ${ident(name)} with allow_connections ${allow ? 'true' : 'false'}`),
  );
}

/** Drops a database, terminating its sessions. */
export async function dropDatabaseForce(sql: Db, name: string): Promise<void> {
  await guard(ctx, () => sql.unsafe(`drop database if exists ${ident(name)} with (force)`));
}

/** Every database's name on this server. */
export async function databaseNames(sql: Db): Promise<string[]> {
  return guard(ctx, async () =>
    (await sql<{ name: string }[]>`select datname as name from pg_database order by 1`).map((r) => r.name),
  );
}

/** Every role name on this server (to tell which roles a dump refers to are missing). */
export async function roleNames(sql: Db): Promise<Set<string>> {
  return guard(ctx, async () => {
    const rows = await sql<{ name: string }[]>`select rolname as name from pg_roles`;
    return new Set(rows.map((r) => r.name));
  });
}

/**
 * Roles the connected role may give objects to (ALTER ... OWNER TO): those it is a member of
 * (a superuser is a member of every role).
 */
export async function rolesUsableAsOwner(sql: Db): Promise<Set<string>> {
  return guard(ctx, async () => {
    const rows = await sql<
      { name: string }[]
    >`select rolname as name from pg_roles where pg_has_role(current_user, oid, 'MEMBER')`;
    return new Set(rows.map((r) => r.name));
  });
}

/** Gives database `name` to `owner`. */
export async function setDatabaseOwnerTo(sql: Db, name: string, owner: string): Promise<void> {
  await guard(ctx, () => sql.unsafe(`alter database ${ident(name)} owner to ${ident(owner)}`));
}

/**
 * Runs one database-level statement from an archive (a comment, grant or setting of the
 * database, re-aimed at the database being restored by core/restore/database-entries.ts,
 * which keeps only those forms).
 */
export async function runArchiveDatabaseStatement(sql: Db, statement: string): Promise<void> {
  await guard(ctx, () => sql.unsafe(statement));
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
