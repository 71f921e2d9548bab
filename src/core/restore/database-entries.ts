/**
 * The database-level part of a pg_dump archive (its DATABASE, DATABASE PROPERTIES, and the
 * database's COMMENT and ACL entries, which pg_restore applies only with --create): the owner,
 * the comment, the grants, and the ALTER DATABASE / ALTER ROLE ... IN DATABASE settings. They
 * name the database the dump was taken from; here each statement is re-aimed at the database
 * being restored (a scratch copy under another name). Only these known forms are kept, each
 * rebuilt from the values read (never passed through): an archive is untrusted input.
 */
import type { Db } from '../../db/pool.js';
import {
  roleNames,
  rolesUsableAsOwner,
  runArchiveDatabaseStatement,
  setDatabaseOwnerTo,
} from '../../store/admin/index.js';
import { findPgClient } from '../../tools/pg-client.js';
import type { DumpFormat } from '../../tools/pg-dump.js';
import { databaseEntriesSql } from '../../tools/pg-restore.js';
import { quoteIdent, quoteLiteral, type Token, tokenizeStatements } from '../sql-tokens.js';

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

/**
 * Parses what `pg_restore --create` renders for the database entries; null when there are none.
 * The archive is untrusted: each statement is read token by token (core/sql-tokens.ts) into one
 * of the forms pg_dump writes, and rebuilt from the values read; anything else is left out.
 */
export function parseDatabaseEntries(text: string): ArchiveDatabase | null {
  const statements = tokenizeStatements(text).filter((s) => !s.some((t) => t.t === 'bad'));
  let name: string | null = null;
  for (const tokens of statements) {
    const c = new Cursor(tokens);
    if (c.words('create', 'database')) {
      name = c.ident();
      break;
    }
  }
  if (name === null) return null;
  const out: ArchiveDatabase = { name, owner: null, statements: [] };
  for (const tokens of statements) {
    const parsed = parseStatement(new Cursor(tokens), name);
    if (parsed === null) continue;
    if ('owner' in parsed) out.owner = parsed.owner;
    else out.statements.push(parsed);
  }
  return out;
}

/** One allowed statement about database `name`, rebuilt; null for anything else. */
function parseStatement(c: Cursor, name: string): DatabaseStatement | { owner: string } | null {
  if (c.words('alter', 'database')) {
    if (c.ident() !== name) return null;
    if (c.words('owner', 'to')) {
      const owner = c.role();
      return owner !== null && c.done() ? { owner } : null;
    }
    const setting = c.setting();
    return setting && c.done()
      ? { kind: 'setting', roles: [], sql: (target) => `ALTER DATABASE ${quoteIdent(target)} ${setting}` }
      : null;
  }
  if (c.words('alter', 'role')) {
    const role = c.role();
    if (role === null || !c.words('in', 'database') || c.ident() !== name) return null;
    const setting = c.setting();
    return setting && c.done()
      ? {
          kind: 'setting',
          roles: [role],
          sql: (target) => `ALTER ROLE ${quoteIdent(role)} IN DATABASE ${quoteIdent(target)} ${setting}`,
        }
      : null;
  }
  if (c.words('comment', 'on', 'database')) {
    if (c.ident() !== name || !c.words('is')) return null;
    const comment = c.string();
    return comment !== null && c.done()
      ? {
          kind: 'comment',
          roles: [],
          sql: (target) => `COMMENT ON DATABASE ${quoteIdent(target)} IS ${quoteLiteral(comment)}`,
        }
      : null;
  }
  const grant = c.words('grant');
  if (!grant && !c.words('revoke')) return null;
  const option = !grant && c.words('grant', 'option', 'for');
  const privileges = c.list(() => c.privilege());
  if (!privileges || !c.words('on', 'database') || c.ident() !== name || !c.words(grant ? 'to' : 'from')) return null;
  const grantees = c.list(() => (c.words('public') ? 'PUBLIC' : c.role()));
  if (!grantees) return null;
  const withOption = grant && c.words('with', 'grant', 'option');
  const cascade = !grant && c.words('cascade');
  if (!c.done()) return null;
  const to = grantees.map((g) => (g === 'PUBLIC' ? g : quoteIdent(g))).join(', ');
  return {
    kind: 'grant',
    roles: grantees.filter((g) => g !== 'PUBLIC'),
    sql: (target) =>
      `${grant ? 'GRANT' : `REVOKE${option ? ' GRANT OPTION FOR' : ''}`} ${privileges.join(', ')} ON DATABASE ${quoteIdent(target)} ` +
      `${grant ? 'TO' : 'FROM'} ${to}${withOption ? ' WITH GRANT OPTION' : ''}${cascade ? ' CASCADE' : ''}`,
  };
}

/** Settings never replayed from an archive: they make the server load a library into every session. */
const REFUSED_SETTINGS = new Set(['session_preload_libraries', 'local_preload_libraries', 'shared_preload_libraries']);
/** Unquoted words that name no role (CURRENT_USER...) where a role is expected. */
const ROLE_KEYWORDS = new Set(['public', 'current_user', 'current_role', 'session_user', 'none', 'all', 'default']);
const PRIVILEGES = new Map([
  ['create', 'CREATE'],
  ['connect', 'CONNECT'],
  ['temporary', 'TEMPORARY'],
  ['temp', 'TEMPORARY'],
]);

/** Reads tokens in order; every method advances only when it matches. */
class Cursor {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  /** Unquoted keywords, in order. */
  words(...words: string[]): boolean {
    const match = words.every((w, k) => {
      const t = this.tokens[this.at + k];
      return t?.t === 'ident' && !t.quoted && t.v === w;
    });
    if (match) this.at += words.length;
    return match;
  }

  ident(): string | null {
    const t = this.tokens[this.at];
    if (t?.t !== 'ident') return null;
    this.at++;
    return t.v;
  }

  role(): string | null {
    const t = this.tokens[this.at];
    if (t?.t !== 'ident' || (!t.quoted && ROLE_KEYWORDS.has(t.v))) return null;
    this.at++;
    return t.v;
  }

  string(): string | null {
    const t = this.tokens[this.at];
    if (t?.t !== 'string') return null;
    this.at++;
    return t.v;
  }

  privilege(): string | null {
    if (this.words('all')) {
      this.words('privileges');
      return 'ALL';
    }
    const t = this.tokens[this.at];
    const p = t?.t === 'ident' && !t.quoted ? PRIVILEGES.get(t.v) : undefined;
    if (!p) return null;
    this.at++;
    return p;
  }

  /** `item [, item]...`, or null. */
  list(item: () => string | null): string[] | null {
    const items: string[] = [];
    for (;;) {
      const value = item();
      if (value === null) return null;
      items.push(value);
      const t = this.tokens[this.at];
      if (t?.t !== 'punct' || t.v !== ',') return items;
      this.at++;
    }
  }

  /** `SET name TO|= value [, value]...`, rebuilt (names quoted, values as literals); null when not that form or refused. */
  setting(): string | null {
    if (!this.words('set')) return null;
    const parts = [this.ident()];
    while (this.tokens[this.at]?.t === 'punct' && this.tokens[this.at]!.v === '.') {
      this.at++;
      parts.push(this.ident());
    }
    if (parts.some((p) => p === null)) return null;
    const key = parts.join('.').toLowerCase();
    if (REFUSED_SETTINGS.has(key) || key.split('.').some((p) => REFUSED_SETTINGS.has(p))) return null;
    const eq = this.tokens[this.at];
    if (!this.words('to')) {
      if (eq?.t !== 'punct' || eq.v !== '=') return null;
      this.at++;
    }
    const values = this.list(() => {
      const t = this.tokens[this.at];
      if (!t || !(t.t === 'string' || t.t === 'num' || (t.t === 'ident' && !(t.v === 'default' && !t.quoted))))
        return null;
      this.at++;
      return t.v;
    });
    if (!values) return null;
    return `SET ${(parts as string[]).map(quoteIdent).join('.')} TO ${values.map(quoteLiteral).join(', ')}`;
  }

  done(): boolean {
    return this.at === this.tokens.length;
  }
}

/** The archive's database-level entries (null for plain SQL, or an archive without them). */
export async function readArchiveDatabase(
  format: DumpFormat,
  archive: string,
  minMajor: number,
  env: Record<string, string | undefined>,
): Promise<ArchiveDatabase | null> {
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
export async function applyArchiveDatabase(
  sql: Db,
  database: string,
  entries: ArchiveDatabase,
  setOwner: boolean,
): Promise<AppliedDatabase> {
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
