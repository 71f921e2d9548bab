/**
 * Loads a dump into one database: pg_restore for custom and directory archives, psql with
 * ON_ERROR_STOP for plain SQL (gzip-compressed or not). Stops at the first error; with one job
 * it is one transaction. Owners are kept when the restoring role may give objects to every
 * owner the dump names ('auto', the default for restore), else dropped (objects belong to the
 * restoring role) and reported; privileges naming roles the target lacks are skipped, with a
 * warning.
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ServerConnection } from '../../db/config.js';
import { type Db, withAdminSql } from '../../db/pool.js';
import { UsageError } from '../../errors.js';
import { roleNames, rolesUsableAsOwner } from '../../store/admin/index.js';
import { countRows, tablePages } from '../../store/admin/index.js';
import { clientNeed, findPgClient } from '../../tools/pg-client.js';
import type { DumpFormat } from '../../tools/pg-dump.js';
import { listArchive, privilegeStatements, runPgRestore } from '../../tools/pg-restore.js';
import { runPsqlScript } from '../../tools/psql.js';
import type { ProgressSink } from '../../types/progress.js';
import { DumpSqlFilter, rolesInPrivilegeStatement } from './sql-filter.js';
import { plural } from '../../util/format.js';

export interface DumpToLoad {
  format: DumpFormat;
  /** The archive file, the directory archive, or the SQL file. */
  path: string;
  /** Lowest client major that can read it (the pg_dump that wrote it), when known. */
  minClientMajor?: number;
  /** Tables with rows, when known (for the progress bar). */
  tablesTotal?: number;
}

export interface LoadOptions {
  conn: ServerConnection;
  serverMajor: number;
  env: Record<string, string | undefined>;
  database: string;
  dump: DumpToLoad;
  jobs: number;
  /** Keep the dump's ownership (ALTER ... OWNER TO); default false. Ignored when `owners` is given. */
  keepOwner?: boolean;
  /**
   * auto: keep the owners when every one may be used here, else drop them all (archives) or
   * those that may not (plain SQL), and report them; keep: keep them (fails up front when one
   * may not be used); drop: objects belong to the restoring role.
   */
  owners?: OwnerMode;
  onProgress?: ProgressSink | undefined;
  /**
   * A session on the same server to read the roles on (they are the cluster's, the same from
   * every database) instead of a connection to `database` for them.
   */
  adminSql?: Db | undefined;
  /** Aborting stops pg_restore or psql (the load then fails). */
  signal?: AbortSignal | undefined;
}

export type OwnerMode = 'auto' | 'keep' | 'drop';

export interface LoadResult {
  /** Whether the dump's owners were given their objects (all of them, for an archive). */
  ownersKept: boolean;
  /** Owners the dump names that the restoring role may not give objects to (missing, or not a member). */
  unusableOwners: string[];
  /** Roles the dump grants privileges to that the target lacks. */
  missingRoles: string[];
  /** 'all' when pg_restore had to skip every privilege; a count for plain dumps. */
  skippedPrivileges: number | 'all';
}

/** Restores `dump` into `database` (which must exist). */
export async function loadDump(o: LoadOptions): Promise<LoadResult> {
  const readRoles = async (sql: Db) => ({ roles: await roleNames(sql), usable: await rolesUsableAsOwner(sql) });
  const { roles, usable } = o.adminSql
    ? await readRoles(o.adminSql)
    : await withAdminSql(o.conn, readRoles, o.database);
  const owners: OwnerMode = o.owners ?? (o.keepOwner ? 'keep' : 'drop');
  const minMajor = Math.max(o.serverMajor, o.dump.minClientMajor ?? 0);
  const progress = { phase: 'restoring', tablesDone: 0, tablesTotal: o.dump.tablesTotal ?? 0, bytes: 0 };
  if (o.dump.format === 'plain') return loadPlain(o, { roles, usable, owners }, minMajor, progress);

  const pgRestore = await findPgClient('pg_restore', clientNeed(o.serverMajor, o.dump.minClientMajor), o.env);
  const toc = await listArchive(pgRestore.path, o.dump.path);
  progress.tablesTotal = toc.filter((line) => / TABLE DATA /.test(line)).length;
  o.onProgress?.({ ...progress });
  const referenced = new Set<string>();
  for (const line of (await privilegeStatements(pgRestore.path, o.dump.path, toc)).split('\n')) {
    for (const role of rolesInPrivilegeStatement(line)) referenced.add(role);
  }
  const missingRoles = [...referenced].filter((r) => !roles.has(r)).sort();
  const unusableOwners = [...ownersInToc(toc, roles)].filter((r) => !usable.has(r)).sort();
  if (owners === 'keep' && unusableOwners.length) throw unusableOwnersError(unusableOwners);
  const keepOwners = owners === 'keep' || (owners === 'auto' && unusableOwners.length === 0);
  await runPgRestore({
    conn: o.conn,
    pgRestorePath: pgRestore.path,
    database: o.database,
    archive: o.dump.path,
    jobs: o.jobs,
    noOwner: !keepOwners,
    noPrivileges: missingRoles.length > 0,
    signal: o.signal,
    onTable: () => {
      progress.tablesDone++;
      o.onProgress?.({ ...progress });
    },
  });
  return {
    ownersKept: keepOwners,
    unusableOwners: owners === 'drop' ? [] : unusableOwners,
    missingRoles,
    skippedPrivileges: missingRoles.length > 0 ? 'all' : 0,
  };
}

/**
 * The owners named in an archive's table of contents (`id; oid oid DESC SCHEMA TAG OWNER`): the
 * last field, matched against the existing role names first so that a name with spaces is whole.
 */
export function ownersInToc(toc: string[], roles: Set<string>): Set<string> {
  const withSpaces = [...roles].filter((r) => r.includes(' '));
  const owners = new Set<string>();
  for (const line of toc) {
    if (!/^\d+; \d+ \d+ /.test(line) || line.endsWith(' ')) continue; // no owner (e.g. an extension)
    const spaced = withSpaces.find((r) => line.endsWith(` ${r}`));
    owners.add(spaced ?? line.slice(line.lastIndexOf(' ') + 1));
  }
  return owners;
}

function unusableOwnersError(roles: string[]): UsageError {
  return new UsageError(
    `--owner: the dump's objects belong to ${roles.length === 1 ? 'a role' : 'roles'} this restore cannot give them to: ${roles.join(', ')}`,
    {
      hint: 'Create the roles (or restore as a superuser or a member of them), or drop --owner to restore them owned by the restoring role.',
    },
  );
}

async function loadPlain(
  o: LoadOptions,
  { roles, usable, owners }: { roles: Set<string>; usable: Set<string>; owners: OwnerMode },
  minMajor: number,
  progress: { phase: string; tablesDone: number; tablesTotal: number; bytes: number },
): Promise<LoadResult> {
  if (o.jobs > 1)
    throw new UsageError('--jobs needs a custom or directory format backup; a plain SQL dump restores with one job', {
      hint: 'Drop --jobs.',
    });
  const psql = await findPgClient('psql', minMajor, o.env);
  const bytesTotal = statSync(o.dump.path).size;
  const gzipped = await isGzipFile(o.dump.path);
  // No await from here until the pipes are connected: a flowing stream would drop data.
  const file = createReadStream(o.dump.path, { highWaterMark: 1 << 20 });
  file.on('data', (chunk) => {
    progress.bytes += chunk.length;
    o.onProgress?.({ ...progress, bytesTotal });
  });
  const filter = new DumpSqlFilter({
    dropOwner: owners === 'drop',
    ownerUsable: owners === 'auto' ? (name) => usable.has(name) : undefined,
    roleExists: (name) => roles.has(name),
    onTable: () => {
      progress.tablesDone++;
      o.onProgress?.({ ...progress, bytesTotal });
    },
  });
  let sql: Readable = file;
  if (gzipped) {
    const gunzip = createGunzip();
    file.on('error', (error) => gunzip.destroy(error));
    sql = file.pipe(gunzip);
  } else if (/\.(zst|lz4)$/.test(o.dump.path)) {
    throw new UsageError(
      `${o.dump.path} is compressed with ${o.dump.path.endsWith('.zst') ? 'zstd' : 'lz4'}, which pgstore cannot read`,
      {
        hint: 'Decompress it first (zstd -d / lz4 -d) and restore the .sql file.',
      },
    );
  }
  sql.on('error', (error) => filter.destroy(error));
  await runPsqlScript({
    conn: o.conn,
    psqlPath: psql.path,
    database: o.database,
    sql: sql.pipe(filter),
    signal: o.signal,
  });
  const unusableOwners = [...filter.unusableOwners].sort();
  return {
    ownersKept: owners !== 'drop' && unusableOwners.length === 0,
    unusableOwners,
    missingRoles: [...filter.missingRoles].sort(),
    skippedPrivileges: filter.privilegeStatementsDropped,
  };
}

/** Whether a file starts with the gzip magic bytes. */
export async function isGzipFile(path: string): Promise<boolean> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

export interface TableComparison {
  schema: string;
  name: string;
  expected: number;
  actual: number | null;
}

/** Tables above this many pages (64 MB) are counted in ranges, one per connection. */
const SPLIT_PAGES = 8192;

/**
 * Counts the manifest's tables in `database` on `parallel` connections (a large table is split
 * into page ranges on PostgreSQL 14+); returns every table with both numbers.
 */
export async function compareRowCounts(
  conn: ServerConnection,
  database: string,
  tables: Array<{ schema: string; name: string; rows: number }>,
  serverMajor: number,
  parallel = 2,
): Promise<TableComparison[]> {
  return withAdminSql(
    conn,
    async (sql) => {
      const sizes = await tablePages(sql, tables);
      const jobs: Array<{
        key: string;
        table: { schema: string; name: string };
        range?: { fromPage: number; toPage: number | null };
      }> = [];
      for (const t of sizes) {
        const key = `${t.schema}\0${t.name}`;
        if (serverMajor < 14 || t.pages <= SPLIT_PAGES || parallel < 2) {
          jobs.push({ key, table: t });
          continue;
        }
        for (let i = 0; i < parallel; i++) {
          const fromPage = Math.floor((i * t.pages) / parallel);
          jobs.push({
            key,
            table: t,
            range: { fromPage, toPage: i === parallel - 1 ? null : Math.floor(((i + 1) * t.pages) / parallel) },
          });
        }
      }
      // Small tables in all (under one split's worth of pages) are counted on the one connection
      // already open (the queries pipelined): a second one costs more (fork, authentication)
      // than it saves.
      const small = sizes.reduce((n, t) => n + t.pages, 0) <= SPLIT_PAGES;
      const one = small ? await sql.reserve() : undefined;
      const counts = await Promise.all(jobs.map((job) => countRows(one ?? sql, job.table, job.range))).finally(() =>
        one?.release(),
      );
      const byName = new Map<string, number>();
      jobs.forEach((job, i) => byName.set(job.key, (byName.get(job.key) ?? 0) + counts[i]!));
      return tables.map((t) => ({
        schema: t.schema,
        name: t.name,
        expected: t.rows,
        actual: byName.get(`${t.schema}\0${t.name}`) ?? null,
      }));
    },
    database,
    { max: parallel },
  );
}

/** "public.actor: 200 expected, 199 found" for each table that differs. */
export function rowCountProblems(tables: TableComparison[]): string[] {
  return tables
    .filter((t) => t.actual !== t.expected)
    .map(
      (t) =>
        `${t.schema}.${t.name}: ${plural(t.expected, 'row')} expected, ${t.actual === null ? 'table missing' : `${t.actual} found`}`,
    );
}
