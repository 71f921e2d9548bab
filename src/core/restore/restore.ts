/**
 * `pgstore restore`: checksums before anything touches the target (a damaged backup exits 1
 * with the target untouched), then, whatever the target's state, the dump is restored into a
 * scratch database, its row counts checked, the database's own properties given to it, and
 * only then put in the target's place:
 *  - missing (needs --create): the scratch copy is renamed into place (the checksums are
 *    checked while the load runs, and stop it if they fail), so the target never exists
 *    half-restored; it gets the archive's owner, comment, grants and settings;
 *  - empty, or holding objects (refused unless --clean, which asks, or --yes): the scratch
 *    database is created like the target (owner, encoding, locale, grants, settings, then the
 *    archive's comment, grants and settings on top) and swapped in with two renames in one
 *    transaction.
 * Until that moment the target is untouched (or absent), whatever fails, with any --jobs.
 * Owners are kept when the restoring role may give objects to every owner the dump names.
 * Afterwards: per-table row counts against the manifest, and the migration status.
 */
import { describeTarget, type ServerConnection } from '../../db/config.js';
import { connectPool, type Db, type SharedPool, sharedPool } from '../../db/pool.js';
import { ConflictError, PgstoreError, UsageError } from '../../errors.js';
import * as admin from '../../store/admin/index.js';
import {
  copyDatabaseProperties,
  createDatabaseFrom,
  databaseProperties,
  dropDatabaseForce,
  renameDatabase,
} from '../../store/admin/index.js';
import { serverIdentity } from '../../store/admin/index.js';
import { databaseIsEmpty } from '../../store/admin/index.js';
import { resolveBackupDir } from '../backup/index.js';
import type { Confirm, CoreOptions } from '../options.js';
import type { ProgressSink } from '../../types/progress.js';
import { applyArchiveDatabase, readArchiveDatabase } from './database-entries.js';
import {
  compareRowCounts,
  loadDump,
  type LoadResult,
  type OwnerMode,
  rowCountProblems,
  type TableComparison,
} from '../dump-load/index.js';
import { restoredMigrationStatus, type RestoredMigrations } from './migrations.js';
import { scratchName } from './scratch-names.js';
import { resolveSource, sourceClientMajor, verifySource } from './source.js';
import { clientNeed, findPgClient } from '../../tools/pg-client.js';
import { type Leftovers, planReplace, refuseOtherSessions, swapIn, withRestoreLock } from './swap.js';

export interface RestoreOptions extends CoreOptions {
  /** latest | ID | <database>/<ID> | PATH. */
  source: string;
  dir?: string | undefined;
  /** The database to restore into (default: the connection's). */
  targetDb?: string | undefined;
  create?: boolean;
  clean?: boolean;
  jobs?: number;
  /**
   * auto (default): keep the dump's owners when the restoring role may give objects to all of
   * them, else restore without owners and report; keep (--owner): keep them or fail up front;
   * drop (--no-owner): objects belong to the restoring role.
   */
  owners?: OwnerMode;
  /** Legacy: true is owners 'keep', false is 'drop' (when `owners` is not given). */
  keepOwner?: boolean;
  /** Terminate sessions on the target when swapping (--clean). */
  force?: boolean;
  forceProduction?: boolean;
  confirm?: Confirm;
  migrationsDir?: string | undefined;
  onProgress?: ProgressSink | undefined;
  /** `latest` passes over damaged backups (named in a warning) instead of refusing. */
  skipDamaged?: boolean;
}

export interface RestoreResult {
  source: { id: string | null; path: string; format: string; checksums: 'verified' | 'no manifest' };
  target: string;
  database: string;
  mode: 'created' | 'in place' | 'replaced';
  tables: TableComparison[];
  /** null when the source had no manifest to compare with. */
  rowCountsMatch: boolean | null;
  migrations: RestoredMigrations;
  /** Roles the dump grants to that the target lacks (their privileges were skipped). */
  missingRoles: string[];
  /**
   * Whether objects (and, for a created database, the database) belong to the dump's owners;
   * `unusableRoles`: owners the restoring role could not give them to (missing, or not a member).
   */
  owners: { kept: boolean; unusableRoles: string[] };
  /** Databases left by interrupted restores of this database (swap.ts). */
  leftovers: Leftovers;
  durationMs: number;
}

/** Restores a backup or dump; see the file comment for the guarantees. */
export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const jobs = options.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('--jobs must be a whole number ≥ 1');
  const target = options.target;
  const source = resolveSource(options.source, resolveBackupDir(options.dir, options.env), target.database, {
    skipDamaged: options.skipDamaged,
    log: options.log,
  });
  if (source.format === 'plain' && jobs > 1) {
    throw new UsageError('--jobs needs a custom or directory format backup; a plain SQL dump restores with one job', {
      hint: 'Drop --jobs.',
    });
  }

  const { sql, conn } = await connectPool(target, { max: 1, log: options.log });
  // Restoring into the connection's own database: this pool is the one the checks of the
  // target use (restoreLocked closes it before the load); else it is closed at once.
  const database = options.targetDb ?? conn.database;
  const targetPool = sharedPool(conn, database, { opened: database === conn.database ? sql : undefined });
  try {
    let serverMajor: number;
    try {
      serverMajor = Math.floor((await serverIdentity(sql)).versionNum / 10000);
    } finally {
      if (database !== conn.database) await sql.end({ timeout: 5 }).catch(() => undefined);
    }
    checkDatabaseName(database);
    return await withRestoreLock(conn, database, (leftovers, adminSql) =>
      restoreLocked(options, { started, jobs, source, conn, database, serverMajor, leftovers, adminSql, targetPool }),
    );
  } finally {
    await targetPool.end();
  }
}

interface RestoreContext {
  started: number;
  jobs: number;
  source: ReturnType<typeof resolveSource>;
  conn: ServerConnection;
  database: string;
  serverMajor: number;
  leftovers: RestoreResult['leftovers'];
  /** The restore lock's session, on `postgres` (swap.ts): the restore's admin work runs on it. */
  adminSql: Db;
  /** A pool on the target (while it is only read); closed before the load. */
  targetPool: SharedPool;
}

/**
 * What the restore does to the target: create it (missing; needs --create), fill it (empty),
 * or replace it (holding objects; needs --clean).
 */
async function modeFor(
  conn: ServerConnection,
  targetPool: SharedPool,
  database: string,
  props: unknown,
  options: RestoreOptions,
): Promise<RestoreResult['mode']> {
  if (!props) {
    if (!options.create)
      throw new UsageError(`database ${database} does not exist on ${conn.host}:${conn.port}`, {
        hint: 'Pass --create to create it.',
      });
    return 'created';
  }
  if (await targetPool.run((s) => databaseIsEmpty(s))) return 'in place';
  if (!options.clean) {
    throw new ConflictError(`database ${database} is not empty; refusing to restore into it`, {
      hint: 'Pass --clean to replace its contents (it asks first; --yes without a terminal), or restore elsewhere with --target-db NEW --create.',
    });
  }
  return 'replaced';
}

/** The restore proper, under the restore lock of `database`. */
async function restoreLocked(
  options: RestoreOptions,
  { started, jobs, source, conn, database, serverMajor, leftovers, adminSql, targetPool }: RestoreContext,
): Promise<RestoreResult> {
  const there = { ...conn, database };
  const props = await databaseProperties(adminSql, database);
  const mode = await modeFor(conn, targetPool, database, props, options);
  // Our own session on the target would count as another one (and would block the swap).
  if (mode !== 'replaced') await targetPool.end();
  if (mode === 'in place' && !options.force) await refuseOtherSessions(adminSql, database);
  // Checksums before anything touches the target. A missing target is restored into a scratch
  // database first, so there they are checked while the load runs (and stop it if they fail).
  let checksums = mode === 'created' ? undefined : await verifySource(source);
  if (mode === 'replaced') await planReplace(conn, adminSql, targetPool, database, source.id ?? source.path, options);
  await targetPool.end();
  const owners: OwnerMode =
    options.owners ?? (options.keepOwner === undefined ? 'auto' : options.keepOwner ? 'keep' : 'drop');
  const minMajor = Math.max(serverMajor, sourceClientMajor(source));
  // The client that will load the dump, found before any database is created: one older than
  // the server (or than the pg_dump that wrote the archive) is named with the fix, exit 2.
  await findPgClient(
    source.format === 'plain' ? 'psql' : 'pg_restore',
    clientNeed(serverMajor, sourceClientMajor(source)),
    options.env,
  );

  const load = (into: string, signal?: AbortSignal): Promise<LoadResult> =>
    loadDump({
      conn,
      serverMajor,
      env: options.env,
      database: into,
      adminSql,
      dump: {
        format: source.format,
        path: source.dumpPath,
        minClientMajor: sourceClientMajor(source),
        tablesTotal: source.manifest?.tables.length,
      },
      jobs,
      owners,
      onProgress: options.onProgress,
      signal,
    });
  const check = async (into: string): Promise<TableComparison[]> => {
    if (!source.manifest) return [];
    options.onProgress?.({ phase: 'counting rows', tablesDone: 0, tablesTotal: 0, bytes: 0 });
    return compareRowCounts(conn, into, source.manifest.tables, serverMajor, Math.min(4, Math.max(2, jobs)));
  };

  let loaded: LoadResult;
  let tables: TableComparison[];
  const missingRoles = new Set<string>();
  const scratch = scratchName(database, 'restore');
  await (props
    ? createDatabaseFrom(adminSql, scratch, props)
    : admin.createDatabase(adminSql, scratch, conn.user)
  ).catch((error: unknown) => {
    throw privilegeError(error, conn, 'create a database');
  });
  try {
    if (checksums) loaded = await load(scratch);
    else {
      const abort = new AbortController();
      const checking = verifySource(source).catch((error: unknown) => {
        abort.abort();
        throw error;
      });
      const [checked, load_] = await Promise.allSettled([checking, load(scratch, abort.signal)]);
      if (checked.status === 'rejected') throw checked.reason;
      if (load_.status === 'rejected') throw load_.reason;
      checksums = checked.value;
      loaded = load_.value;
    }
    tables = await check(scratch);
    failOnMismatch(tables, `the restored copy (nothing was changed in ${database})`);
    for (const role of loaded.missingRoles) missingRoles.add(role);
    // The database's own properties last: a setting such as default_transaction_read_only
    // must not reach the load. The target's first (so the same roles reach it), then the
    // archive's on top; the archive's owner only for a database it creates.
    const entries = await readArchiveDatabase(source.format, source.dumpPath, minMajor, options.env);
    if (props) await copyDatabaseProperties(adminSql, scratch, props);
    if (entries) {
      const applied = await applyArchiveDatabase(adminSql, scratch, entries, !props && owners !== 'drop');
      for (const role of applied.missingRoles) missingRoles.add(role);
      if (applied.unusableOwner) {
        loaded.ownersKept = false;
        if (!loaded.unusableOwners.includes(applied.unusableOwner)) loaded.unusableOwners.push(applied.unusableOwner);
      }
    }
    options.onProgress?.({ phase: 'swapping in', tablesDone: 0, tablesTotal: 0, bytes: 0 });
    if (props) {
      const kept = await swapIn(conn, adminSql, database, scratch, !!options.force, mode === 'in place');
      if (kept) leftovers.kept.push(kept);
    } else {
      await renameDatabase(adminSql, scratch, database).catch((error: unknown) => {
        if ((error as { code?: string }).code !== '42P04') throw error;
        throw new ConflictError(
          `database ${database} was created by someone else during the restore; it was left alone`,
          { hint: 'Run the restore again (with --clean to replace it).', cause: error },
        );
      });
    }
  } catch (error) {
    await dropDatabaseForce(adminSql, scratch).catch(() => undefined);
    throw error;
  }

  const migrations = await restoredMigrationStatus(
    there,
    source.manifest?.migrationVersion ?? null,
    options.migrationsDir,
    options.env,
  );
  return {
    source: { id: source.id, path: source.path, format: source.format, checksums: checksums! },
    target: describeTarget(there),
    database,
    mode,
    tables,
    rowCountsMatch: source.manifest ? rowCountProblems(tables).length === 0 : null,
    migrations,
    missingRoles: [...missingRoles].sort(),
    owners: { kept: loaded.ownersKept, unusableRoles: loaded.unusableOwners.sort() },
    leftovers,
    durationMs: Math.round(performance.now() - started),
  };
}

function checkDatabaseName(name: string): void {
  if (!name || Buffer.byteLength(name) > 63 || name.includes('\0')) {
    throw new UsageError(`'${name}' is not a valid database name (1 to 63 bytes)`, {
      hint: 'Choose another --target-db.',
    });
  }
}

function failOnMismatch(tables: TableComparison[], what: string): void {
  const problems = rowCountProblems(tables);
  if (problems.length === 0) return;
  throw new PgstoreError(
    `row counts differ from the backup's manifest in ${what}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
    {
      hint: 'The backup and its manifest disagree: try an older backup (`pgstore backup list`).',
    },
  );
}

function privilegeError(error: unknown, conn: ServerConnection, what: string): unknown {
  if ((error as { code?: string }).code === '42501') {
    return new PgstoreError(`role ${conn.user} may not ${what}, which this restore needs`, {
      hint: 'Restore as a role with CREATEDB (or a superuser): every restore loads into a scratch database first, so that a failure leaves the target as it was.',
      cause: error,
    });
  }
  return error;
}
