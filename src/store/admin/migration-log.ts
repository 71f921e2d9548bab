/**
 * The records of applied migrations, one table per migration set:
 * - pgstore's own set in `public.pgstore_schema_migrations` (not in the `pgstore` schema: the
 *   first migration creates that schema, and dbmate would create it first for its table);
 * - the application's set where dbmate records it (`schema_migrations` in the first schema of
 *   the URL's search_path, or DBMATE_MIGRATIONS_TABLE).
 * pgstore extends both with when each file was applied, its sha256 (to detect edited files)
 * and its file name; dbmate only ever reads and writes `version`, so it keeps working on them.
 * Before migration sets, pgstore recorded its own versions in `public.schema_migrations`:
 * `legacyPgstoreRows` finds them and `moveLegacyPgstoreRows` moves them to their own table.
 */
import { sqlLiteral } from '../../db/literal.js';
import type { Db } from '../../db/pool.js';
import { type FactsRow, factsOf, SESSION_FACTS_SQL, type SessionFacts } from './admin.js';

/** A history table, schema-qualified; names as they are (quoted when used). */
export interface MigrationTable {
  schema: string;
  name: string;
}

export const PGSTORE_TABLE: MigrationTable = { schema: 'public', name: 'pgstore_schema_migrations' };
export const LEGACY_TABLE: MigrationTable = { schema: 'public', name: 'schema_migrations' };

export interface AppliedMigration {
  version: string;
  appliedAt: Date | null;
  sha256: string | null;
  filename: string | null;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
/** `"schema"."name"`. */
export const qualified = (t: MigrationTable) => `${quote(t.schema)}.${quote(t.name)}`;
/** `schema.name` as dbmate's --migrations-table takes it (it quotes each part itself). */
export const dbmateName = (t: MigrationTable) => `${t.schema}.${t.name}`;

const ensureSql = (table: MigrationTable) => `
    create schema if not exists ${quote(table.schema)};
    create table if not exists ${qualified(table)} (version varchar(255) primary key);
    alter table ${qualified(table)}
      add column if not exists applied_at timestamptz default now(),
      add column if not exists sha256 text,
      add column if not exists filename text;`;

/**
 * A table that did not exist a moment ago, created whole: one CREATE TABLE, not a CREATE and an
 * ALTER (the ALTER was a third of the DDL's time on a new database). The columns as
 * ensureSql's.
 */
const createSql = (table: MigrationTable) => `
    create schema if not exists ${quote(table.schema)};
    create table if not exists ${qualified(table)} (
      version varchar(255) primary key,
      applied_at timestamptz default now(),
      sha256 text,
      filename text)`;

type LogRow = { version: string; applied_at: Date | null; sha256: string | null; filename: string | null };
const selectLog = (table: MigrationTable) =>
  `select version, applied_at, sha256, filename from ${qualified(table)} order by version`;
const toApplied = (r: LogRow): AppliedMigration => ({
  version: r.version,
  appliedAt: r.applied_at,
  sha256: r.sha256,
  filename: r.filename,
});

/** Creates the table (as dbmate would, schema included) and pgstore's extra columns, if missing. */
export async function ensureMigrationLog(sql: Db, table: MigrationTable): Promise<void> {
  await sql.unsafe(ensureSql(table));
}

/** ensureMigrationLog, then the applied migrations (oldest first), in one round trip. */
export async function ensureAndReadMigrationLog(sql: Db, table: MigrationTable): Promise<AppliedMigration[]> {
  // One simple query of several statements: postgres.js returns one result per statement.
  const results = await sql.unsafe<LogRow[][]>(`${ensureSql(table)}\n    ${selectLog(table)}`);
  return (results.at(-1) ?? []).map(toApplied);
}

/** Whether a history table exists, and whether it has pgstore's columns. */
export interface MigrationLogState {
  table: MigrationTable;
  exists: boolean;
  /** applied_at, sha256 and filename are all there. */
  extended: boolean;
}

type StateRow = { exists: boolean; extended: boolean };
const statesOf = (tables: MigrationTable[], rows: StateRow[]): MigrationLogState[] =>
  tables.map((table, i) => ({ table, exists: !!rows[i]?.exists, extended: !!rows[i]?.extended }));

/** The state of each table, in one read-only query. */
export async function migrationLogStates(sql: Db, tables: MigrationTable[]): Promise<MigrationLogState[]> {
  // Names inline, not a parameter: one round trip, pipelined behind the lock (db/literal.ts).
  return statesOf(tables, await sql.unsafe<StateRow[]>(statesSql(tables)));
}

/**
 * The session's facts, a first try of the advisory lock `lockName` (when given) and the state of
 * each history table, in one simple query: the first round trip of `migrate up`, made as soon
 * as the connection is up. A session-level advisory lock is not undone by anything else in the
 * query failing; the lock is the first statement, so the states are read under it when it is
 * granted (what exists only grows: a state read without it is at worst stale).
 */
export async function factsLockAndStates(
  sql: Db,
  lockName: string | undefined,
  tables: MigrationTable[],
): Promise<{ facts: SessionFacts; locked: boolean | undefined; states: MigrationLogState[] }> {
  const statements = [
    lockName === undefined
      ? 'select null::boolean as locked'
      : `select pg_try_advisory_lock(hashtextextended(${sqlLiteral(lockName)}, 0)) as locked`,
    SESSION_FACTS_SQL,
    statesSql(tables),
  ];
  const [lock, facts, states] = await sql.unsafe<[{ locked: boolean | null }[], FactsRow[], StateRow[]]>(
    statements.join(';\n'),
  );
  return {
    facts: factsOf(facts![0]!),
    locked: lockName === undefined ? undefined : !!lock![0]?.locked,
    states: statesOf(tables, states!),
  };
}

/**
 * Tries the session advisory lock `lockName` once. Inline, not a parameter: sent behind a query
 * still in flight (factsLockAndStates without its lock), it is pipelined, no round trip of its own.
 */
export async function tryLockInline(sql: Db, lockName: string): Promise<boolean> {
  const [row] = await sql.unsafe<{ locked: boolean | null }[]>(
    `select pg_try_advisory_lock(hashtextextended(${sqlLiteral(lockName)}, 0)) as locked`,
  );
  return !!row?.locked;
}

const statesSql = (tables: MigrationTable[]) => `
    select to_regclass(t.name) is not null as exists,
           (select count(*) from pg_attribute a
             where a.attrelid = to_regclass(t.name) and not a.attisdropped
               and a.attname in ('applied_at', 'sha256', 'filename')) = 3 as extended
      from jsonb_array_elements_text(${sqlLiteral(JSON.stringify(tables.map(qualified)))}::jsonb) with ordinality as t(name, i)
     order by t.i`;

/**
 * Creates what is missing of the tables in `ensure` (see ensureMigrationLog), then reads every
 * table in `states` that exists, in one round trip; [] for a table that does not. The
 * creation commits without waiting for its WAL flush (synchronous_commit off for that
 * transaction only): dbmate's first commit, whose flush covers everything written before it,
 * makes it durable, and a creation lost with the server before that is done again by the next
 * run. A database whose tables are complete gets no DDL at all (no lock, no write).
 */
export async function ensureAndReadMigrationLogs(
  sql: Db,
  states: MigrationLogState[],
  ensure: MigrationTable[],
  /** Create a missing table whole (createSql); false: as ensureSql does, CREATE then ALTER. */
  whole = true,
): Promise<AppliedMigration[][]> {
  const wanted = (t: MigrationTable) => ensure.some((e) => qualified(e) === qualified(t));
  const create = states.filter((s) => wanted(s.table) && !(s.exists && s.extended));
  // Whole scripts, not split: a quoted name may hold a semicolon. The selects come last.
  const statements: string[] = [];
  if (create.length)
    statements.push(
      'set local synchronous_commit = off',
      ...create.map((s) => (s.exists || !whole ? ensureSql(s.table) : createSql(s.table))),
    );
  const reads = states.map((s) => {
    if (wanted(s.table) || (s.exists && s.extended)) return selectLog(s.table);
    if (s.exists)
      return `select version, null as applied_at, null as sha256, null as filename from ${qualified(s.table)} order by version`;
    return null;
  });
  const selects = reads.filter((r): r is string => r !== null);
  if (selects.length === 0 && statements.length === 0) return states.map(() => []);
  statements.push(...selects);
  // One simple query of several statements (one implicit transaction): postgres.js returns
  // one result per statement, or the only one's rows when there is one.
  let result: LogRow[][];
  try {
    result = await sql.unsafe<LogRow[][]>(statements.join(';\n'));
  } catch (error) {
    // A table created by someone else since `states` was read (not under our lock: dbmate
    // alone, or --no-lock) lacks pgstore's columns, which the reads name: nothing was
    // committed (one implicit transaction); extend every table, as before the single CREATE.
    if (whole && create.some((s) => !s.exists) && (error as { code?: string }).code === '42703')
      return ensureAndReadMigrationLogs(sql, states, ensure, false);
    throw error;
  }
  const results = statements.length === 1 ? [result as unknown as LogRow[]] : result;
  const selected = results.slice(results.length - selects.length);
  let next = 0;
  return reads.map((r) => (r === null ? [] : (selected[next++] ?? []).map(toApplied)));
}

/** The schema a session's unqualified `create table` lands in (dbmate's fallback). */
export async function currentSchema(sql: Db): Promise<string | null> {
  const [row] = await sql<{ schema: string | null }[]>`select current_schema() as schema`;
  return row?.schema ?? null;
}

/** Applied migrations, oldest first; empty when the table does not exist. */
export async function appliedMigrations(sql: Db, table: MigrationTable): Promise<AppliedMigration[]> {
  const name = qualified(table);
  const [exists] = await sql<{ table: string | null; extended: boolean }[]>`
    select to_regclass(${name})::text as table,
           exists (select 1 from pg_attribute
                    where attrelid = to_regclass(${name}) and attname = 'sha256' and not attisdropped) as extended`;
  if (!exists?.table) return [];
  if (!exists.extended) {
    const rows = await sql.unsafe<{ version: string }[]>(`select version from ${name} order by version`);
    return rows.map((r) => ({ version: r.version, appliedAt: null, sha256: null, filename: null }));
  }
  const rows = await sql.unsafe<LogRow[]>(selectLog(table));
  return rows.map(toApplied);
}

/** Missing relation or schema: what to_regclass answers with null. */
const MISSING = new Set(['42P01', '3F000']);

/**
 * appliedMigrations in one statement and no parameters, so that several go out together
 * (postgres.js pipelines statements without parameters; one with a parameter waits for its
 * describe step). A missing table fails its own statement only (each statement ends with its
 * own Sync): for a session outside a transaction.
 */
export async function readMigrationLog(sql: Db, table: MigrationTable): Promise<AppliedMigration[]> {
  // Columns through to_jsonb: a table of dbmate's alone (no sha256) reads as appliedMigrations reads it.
  try {
    const rows = await sql.unsafe<LogRow[]>(`
      select t.version,
             case when x.j ? 'sha256' then (x.j ->> 'applied_at')::timestamptz end as applied_at,
             x.j ->> 'sha256' as sha256,
             case when x.j ? 'sha256' then x.j ->> 'filename' end as filename
        from ${qualified(table)} t cross join lateral to_jsonb(t) as x(j)
       order by t.version`);
    return rows.map(toApplied);
  } catch (error) {
    if (MISSING.has((error as { code?: string }).code ?? '')) return [];
    throw error;
  }
}

export interface KnownFile {
  version: string;
  filename: string;
}

/** Rows of pgstore's own files still in the legacy table (a database migrated before sets). */
export async function legacyPgstoreRows(sql: Db, pgstoreFiles: KnownFile[]): Promise<AppliedMigration[]> {
  if (pgstoreFiles.length === 0) return [];
  return pgstoreRowsAmong(await appliedMigrations(sql, LEGACY_TABLE), pgstoreFiles);
}

/** Of rows read from the legacy table, those of pgstore's own files. */
export function pgstoreRowsAmong(rows: AppliedMigration[], pgstoreFiles: KnownFile[]): AppliedMigration[] {
  const byVersion = new Map(pgstoreFiles.map((f) => [f.version, f.filename]));
  // The version is pgstore's and, where the row recorded its file name, so is the file.
  return rows.filter(
    (r) => byVersion.has(r.version) && (r.filename === null || r.filename === byVersion.get(r.version)),
  );
}

/** Moves pgstore's rows out of the legacy table into pgstore's own, in one transaction. */
export async function moveLegacyPgstoreRows(sql: Db, rows: AppliedMigration[]): Promise<number> {
  if (rows.length === 0) return 0;
  await ensureMigrationLog(sql, PGSTORE_TABLE);
  const json = rows.map((r) => ({
    version: r.version,
    applied_at: r.appliedAt?.toISOString() ?? null,
    sha256: r.sha256,
    filename: r.filename,
  }));
  await sql.begin(async (tx) => {
    await tx.unsafe(
      `insert into ${qualified(PGSTORE_TABLE)} (version, applied_at, sha256, filename)
       select version, applied_at, sha256, filename
         from jsonb_to_recordset($1::text::jsonb) as x(version text, applied_at timestamptz, sha256 text, filename text)
       on conflict (version) do nothing`,
      [JSON.stringify(json)],
    );
    await tx.unsafe(
      `delete from ${qualified(LEGACY_TABLE)} where version in (select jsonb_array_elements_text($1::text::jsonb))`,
      [JSON.stringify(rows.map((r) => r.version))],
    );
  });
  return rows.length;
}

/** Records the checksum and file name of applied migrations that have none yet. */
export async function recordChecksums(
  sql: Db,
  table: MigrationTable,
  files: Array<{ version: string; sha256: string; filename: string }>,
): Promise<void> {
  if (files.length === 0) return;
  // The rows inline, not a parameter: one round trip instead of two (db/literal.ts).
  const json = JSON.stringify(files.map(({ version, sha256, filename }) => ({ version, sha256, filename })));
  await sql.unsafe(
    `update ${qualified(table)} m
        set sha256 = f.sha256, filename = f.filename, applied_at = coalesce(m.applied_at, now())
       from (select * from jsonb_to_recordset(${sqlLiteral(json)}::jsonb) as x(version text, sha256 text, filename text)) f
      where m.version = f.version and m.sha256 is null`,
  );
}

/** Accepts edited files as they are now (after review): stores their current checksums. */
export async function acceptChecksums(
  sql: Db,
  table: MigrationTable,
  files: Array<{ version: string; sha256: string; filename: string }>,
): Promise<number> {
  if (files.length === 0) return 0;
  const rows = await sql.unsafe(
    `update ${qualified(table)} m set sha256 = f.sha256, filename = f.filename
       from (select * from jsonb_to_recordset($1::text::jsonb) as x(version text, sha256 text, filename text)) f
      where m.version = f.version
     returning m.version`,
    [JSON.stringify(files.map(({ version, sha256, filename }) => ({ version, sha256, filename })))],
  );
  return rows.length;
}

/** Forgets applied migrations (after their objects were dropped by hand). */
export async function forgetMigrations(sql: Db, table: MigrationTable, versions: string[]): Promise<void> {
  if (versions.length === 0) return;
  const [exists] = await sql<{ t: string | null }[]>`select to_regclass(${qualified(table)})::text as t`;
  if (exists?.t)
    await sql.unsafe(
      `delete from ${qualified(table)} where version in (select jsonb_array_elements_text($1::text::jsonb))`,
      [JSON.stringify(versions)],
    );
}
