/**
 * The database-level part of a pg_dump archive (its DATABASE, DATABASE PROPERTIES, and the
 * database's COMMENT and ACL entries, which pg_restore applies only with --create): the owner,
 * the comment, the grants, and the ALTER DATABASE / ALTER ROLE ... IN DATABASE settings. They
 * name the database the dump was taken from; here each statement is re-aimed at the database
 * being restored (a scratch copy under another name), and only these known forms are kept.
 */
import type { Db } from '../db/pool.js';
import { roleNames, rolesUsableAsOwner, runArchiveDatabaseStatement, setDatabaseOwnerTo } from '../store/restore-admin.js';
import { findPgClient } from '../tools/pg-client.js';
import type { DumpFormat } from '../tools/pg-dump.js';
import { databaseEntriesSql } from '../tools/pg-restore.js';
import { rolesInPrivilegeStatement } from './restore-sql-filter.js';

export interface DatabaseStatement {
  kind: 'comment' | 'grant' | 'setting';
  /** Roles the statement needs (grantees, the role of a per-role setting); PUBLIC is not one. */
  roles: string[];
  /** The statement aimed at database `name`. */
  sql(name: string): string;
}

export interface ArchiveDatabase {
  /** The name the archive was dumped from. */
  name: string;
  /** Its owner (ALTER DATABASE ... OWNER TO), or null. */
  owner: string | null;
  statements: DatabaseStatement[];
}

/** A quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Parses what `pg_restore --create` renders for the database entries; null when there are none. */
export function parseDatabaseEntries(text: string): ArchiveDatabase | null {
  const statements = splitStatements(text);
  const create = statements.map((s) => /^CREATE DATABASE ("(?:[^"]|"")*"|\S+)/.exec(s)).find(Boolean);
  if (!create) return null;
  const id = create[1]!;
  const name = id.startsWith('"') ? id.slice(1, -1).replace(/""/g, '"') : id;
  const db = escapeRegExp(id);
  const out: ArchiveDatabase = { name, owner: null, statements: [] };
  const aimed = (kind: DatabaseStatement['kind'], roles: string[], before: string, after: string): DatabaseStatement => ({
    kind,
    roles,
    sql: (target) => `${before}${quoteIdent(target)}${after}`,
  });
  for (const s of statements) {
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^ALTER DATABASE ${db} OWNER TO (.+)$`, 's').exec(s))) {
      out.owner = identifiers(m[1]!)[0] ?? null;
    } else if ((m = new RegExp(`^(COMMENT ON DATABASE )${db}( IS .*)$`, 's').exec(s))) {
      out.statements.push(aimed('comment', [], m[1]!, m[2]!));
    } else if ((m = new RegExp(`^((?:GRANT|REVOKE) .* ON DATABASE )${db}( (?:TO|FROM) .*)$`, 's').exec(s))) {
      out.statements.push(aimed('grant', rolesInPrivilegeStatement(`${s};`), m[1]!, m[2]!));
    } else if ((m = new RegExp(`^(ALTER DATABASE )${db}( (?:SET|RESET) .*)$`, 's').exec(s))) {
      out.statements.push(aimed('setting', [], m[1]!, m[2]!));
    } else if ((m = new RegExp(`^(ALTER ROLE ("(?:[^"]|"")*"|\\S+) IN DATABASE )${db}( SET .*)$`, 's').exec(s))) {
      out.statements.push(aimed('setting', identifiers(m[2]!), m[1]!, m[3]!));
    }
    // Anything else (CREATE DATABASE itself, IS_TEMPLATE, tablespaces, session settings) is not replayed.
  }
  return out;
}

/**
 * Top-level statements without their semicolons: string literals and quoted identifiers may
 * hold `;` and newlines; `--` comments and psql meta-commands (\connect, \restrict) are dropped.
 */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (current.trim() === '' && c === '\\') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol + 1;
      current = '';
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? text.length : eol + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        if (j >= text.length) break;
        if (text[j] === c) {
          if (text[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      current += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === ';') {
      if (current.trim()) out.push(current.trim());
      current = '';
      i++;
      continue;
    }
    current += c;
    i++;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** "a, \"B c\"" → ["a", "B c"]. */
function identifiers(list: string): string[] {
  return [...list.matchAll(/"((?:[^"]|"")*)"|([^,\s]+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The archive's database-level entries (null for plain SQL, or an archive without them). */
export async function readArchiveDatabase(format: DumpFormat, archive: string, minMajor: number, env: Record<string, string | undefined>): Promise<ArchiveDatabase | null> {
  if (format === 'plain') return null;
  const pgRestore = await findPgClient('pg_restore', minMajor, env);
  return parseDatabaseEntries(await databaseEntriesSql(pgRestore.path, archive));
}

export interface AppliedDatabase {
  /** Roles named by statements that were skipped because they do not exist here. */
  missingRoles: string[];
  /** The archive's database owner when it could not be given the database. */
  unusableOwner: string | null;
}

/**
 * Replays the archive's database comment, grants and settings on `database` (statements naming
 * missing roles are skipped and reported), and gives it the archive's owner when `setOwner`
 * and the connected role may (else reports that owner).
 */
export async function applyArchiveDatabase(sql: Db, database: string, entries: ArchiveDatabase, setOwner: boolean): Promise<AppliedDatabase> {
  const roles = await roleNames(sql);
  const missing = new Set<string>();
  let unusableOwner: string | null = null;
  if (setOwner && entries.owner) {
    if ((await rolesUsableAsOwner(sql)).has(entries.owner)) await setDatabaseOwnerTo(sql, database, entries.owner);
    else unusableOwner = entries.owner;
  }
  for (const statement of entries.statements) {
    const absent = statement.roles.filter((r) => !roles.has(r));
    if (absent.length) {
      for (const r of absent) missing.add(r);
      continue;
    }
    await runArchiveDatabaseStatement(sql, statement.sql(database));
  }
  return { missingRoles: [...missing].sort(), unusableOwner };
}
