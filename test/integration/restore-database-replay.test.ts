/**
 * The replay of an archive's database entries (core/restore/database-entries.ts) against the
 * real server. An archive is untrusted input: whatever its COMMENT, ACL or settings entries
 * hold, only a comment, grants and settings of the database being restored may come out.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyArchiveDatabase, parseDatabaseEntries } from '../../src/core/restore/database-entries.js';
import { databaseProperties } from '../../src/store/admin/restore.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();

const evil = `evil_${randomBytes(3).toString('hex')}`;
const SRC = '"Src ""db"" é"';

/** Statements that our splitter once read as one allowed statement, and PostgreSQL as several. */
const CRAFTED = [
  `COMMENT ON DATABASE ${SRC} IS E'\\''; CREATE ROLE ${evil}_e SUPERUSER; SELECT E'\\'';`,
  `COMMENT ON DATABASE ${SRC} IS $$'$$; CREATE ROLE ${evil}_d SUPERUSER; SELECT $$'$$;`,
  `COMMENT ON DATABASE ${SRC} IS 'x' /* ' */; CREATE ROLE ${evil}_c SUPERUSER; SELECT '*/';`,
  `ALTER DATABASE ${SRC} SET work_mem TO $$'$$; CREATE ROLE ${evil}_s SUPERUSER; SELECT $$'$$;`,
  `GRANT CONNECT ON DATABASE ${SRC} TO PUBLIC /* ' */; CREATE ROLE ${evil}_g SUPERUSER; SELECT '*/';`,
  `ALTER ROLE CURRENT_USER IN DATABASE ${SRC} SET work_mem TO E'\\''; CREATE ROLE ${evil}_r SUPERUSER; SELECT E'\\'';`,
  `GRANT CONNECT ON DATABASE ${SRC} TO PUBLIC; GRANT pg_write_server_files TO PUBLIC;`,
  `ALTER DATABASE ${SRC} SET session_preload_libraries TO 'plpgsql';`,
];

async function rolesLike(prefix: string): Promise<string[]> {
  return (await db.sql<{ rolname: string }[]>`select rolname from pg_roles where rolname like ${`${prefix}%`}`).map(
    (r) => r.rolname,
  );
}

describe('replaying an archive database entries', () => {
  it('never runs anything but the allowed forms, whatever the entries hold', async () => {
    for (const statement of CRAFTED) {
      const text = `CREATE DATABASE ${SRC} WITH TEMPLATE = template0;\n${statement}\n`;
      const entries = parseDatabaseEntries(text);
      if (entries) await applyArchiveDatabase(db.sql, db.name, entries, false).catch(() => undefined);
    }
    expect(await rolesLike(evil)).toEqual([]);
    const [granted] = await db.sql<
      { member: boolean }[]
    >`select pg_has_role('public', 'pg_write_server_files', 'MEMBER') as member`.catch(() => [{ member: false }]);
    expect(granted?.member ?? false).toBe(false);
    const [settings] = await db.sql<{ config: string[] | null }[]>`
      select s.setconfig as config from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase where d.datname = ${db.name} and s.setrole = 0`;
    expect((settings?.config ?? []).filter((c) => c.startsWith('session_preload_libraries'))).toEqual([]);
  });

  it('replays comments, grants and settings with awkward names and text', async () => {
    const role = `Ro le "${randomBytes(2).toString('hex')}" ü`;
    await db.sql.unsafe(`create role "${role.replace(/"/g, '""')}"`);
    try {
      const quotedRole = `"${role.replace(/"/g, '""')}"`;
      const text = [
        `CREATE DATABASE ${SRC} WITH TEMPLATE = template0 ENCODING = 'UTF8';`,
        `COMMENT ON DATABASE ${SRC} IS 'it''s $$ a; "comment" \\ é';`,
        `GRANT CONNECT,TEMPORARY ON DATABASE ${SRC} TO ${quotedRole} WITH GRANT OPTION;`,
        `ALTER DATABASE ${SRC} SET search_path TO 'my schema', 'public';`,
        `ALTER DATABASE ${SRC} SET "app.tenant" TO 'a''b';`,
        `ALTER ROLE ${quotedRole} IN DATABASE ${SRC} SET work_mem TO '7MB';`,
      ].join('\n');
      const entries = parseDatabaseEntries(text)!;
      expect(entries.name).toBe('Src "db" é');
      await applyArchiveDatabase(db.sql, db.name, entries, false);
      const props = (await databaseProperties(db.sql, db.name))!;
      expect(props.comment).toBe(`it's $$ a; "comment" \\ é`);
      expect(
        props.grants
          .filter((g) => g.grantee === role)
          .map((g) => [g.privilege, g.grantable])
          .sort(),
      ).toEqual([
        ['CONNECT', true],
        ['TEMPORARY', true],
      ]);
      const own = props.settings.find((s) => s.role === null)!.config.sort();
      expect(own).toEqual(["app.tenant=a'b", 'search_path="my schema", public']);
      expect(props.settings.find((s) => s.role === role)!.config).toEqual(['work_mem=7MB']);
    } finally {
      await db.sql.unsafe(`drop owned by "${role.replace(/"/g, '""')}"`);
      await db.sql.unsafe(`drop role "${role.replace(/"/g, '""')}"`);
    }
  });
});
