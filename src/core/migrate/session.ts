/**
 * A migration session: one connection (the lock, the checks and the bookkeeping run on it),
 * the migration sets it works on, and the settings dbmate's own sessions get.
 */
import { acquireAdvisoryLock } from '../../db/advisory-lock.js';
import { connectionUrl, type ServerConnection, startupOptions } from '../../db/config.js';
import { connectPool, type Db, endPromptly, serverFor, waitForServer } from '../../db/pool.js';
import { UsageError } from '../../errors.js';
import { factsLockAndStates, sessionFacts, setRole, tryLockInline } from '../../store/admin/index.js';
import {
  type AppliedMigration,
  appliedMigrations,
  currentSchema,
  LEGACY_TABLE,
  legacyPgstoreRows,
  type MigrationLogState,
  type MigrationTable,
  PGSTORE_TABLE,
  qualified,
} from '../../store/admin/index.js';
import type { MigrationFile } from './files.js';
import {
  appMigrationsDir,
  appMigrationsTable,
  dbmateConfig,
  type MigrationSet,
  appFolder,
  pgstoreFolder,
  loadSetFiles,
  loadSetFilesInTurns,
  SET_NAMES,
  type SetName,
} from './sets.js';
import type { CoreOptions } from '../options.js';

export interface MigrateOptions extends CoreOptions {
  /** The application's migrations folder (default: DBMATE_MIGRATIONS_DIR, then ./db/migrations). */
  migrationsDir?: string | undefined;
  /** Work on this set only (default: pgstore's, then the app's). */
  set?: SetName | undefined;
  /** Hold the migration lock (default true; false for poolers that cannot hold one). */
  lock?: boolean;
  /** How long to wait for pgstore's migration (advisory) lock, in seconds (default 300). */
  lockTimeoutSeconds?: number;
  /** lock_timeout of the sessions that run migrations, in ms (default 5000; 0: none). */
  pgLockTimeoutMs?: number | undefined;
  /** statement_timeout of the sessions that run migrations, in ms (default: the server's). */
  statementTimeoutMs?: number | undefined;
  /** How many times a migration that could not get its lock is tried again (default 3). */
  retries?: number | undefined;
  /** Refuse pending migrations older than the newest applied, and edited applied files (or DBMATE_STRICT). */
  strict?: boolean;
  /** Keep trying while the server is unreachable (or DBMATE_WAIT, DBMATE_WAIT_TIMEOUT). */
  waitTimeoutSeconds?: number | undefined;
  /** `up`: called with each set's pending files once they are known, before any is applied (the lint pre-flight); throwing stops the run. */
  beforeApply?:
    | ((
        pending: Array<{ set: MigrationSet; files: MigrationFile[] }>,
        /** strict: --strict or DBMATE_STRICT. */
        run: { strict: boolean },
      ) => Promise<void>)
    | undefined;
  /**
   * Who applies the files: pgstore itself on its session (default), or the dbmate binary
   * (`--engine dbmate`, or PGSTORE_MIGRATE_ENGINE=dbmate).
   */
  engine?: MigrationEngine | undefined;
  /** `up`: told how many migrations are pending (done 0), then as each is applied, with its set. */
  progress?: ((event: MigrateProgress) => void) | undefined;
}

/** Progress of `migrate up`: `done` of `total` pending migrations (all sets) applied. */
export interface MigrateProgress {
  done: number;
  total: number;
  /** The set and file just applied (absent on the first event, done 0). */
  set?: SetName;
  filename?: string;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

export const MIGRATION_ENGINES = ['pgstore', 'dbmate'] as const;
export type MigrationEngine = (typeof MIGRATION_ENGINES)[number];

/** `--engine`, else PGSTORE_MIGRATE_ENGINE, else pgstore. */
export function migrationEngine(options: Pick<MigrateOptions, 'engine' | 'env'>): MigrationEngine {
  const chosen = options.engine ?? (options.env?.PGSTORE_MIGRATE_ENGINE || undefined);
  if (chosen === undefined) return 'pgstore';
  if ((MIGRATION_ENGINES as readonly string[]).includes(chosen)) return chosen as MigrationEngine;
  throw new UsageError(`PGSTORE_MIGRATE_ENGINE=${chosen}: not a migration engine`, {
    hint: 'Use pgstore (pgstore applies the files itself, the default) or dbmate (the dbmate binary applies them).',
  });
}
export const MIGRATION_LOCK = 'pgstore:migrate';

export interface MigrationSession {
  sql: Db;
  /**
   * The connection as configured (the URL's parameters, search_path included), with `role`
   * set to the database's owner when migrations run as it.
   */
  conn: ServerConnection;
  /** Whether our session is encrypted (dbmate gets the same). */
  ssl: boolean;
  /** Whether dbmate's sessions may set lc_messages (superuser only): lock timeouts are recognised by their English message. */
  superuser?: boolean;
  /** The sets asked for, pgstore's first. */
  sets: MigrationSet[];
  /** pgstore's files (always read: they tell pgstore's rows from the app's in the legacy table). */
  pgstoreFiles: MigrationFile[];
  strict: boolean;
  /** Who applies the files (migrationEngine). */
  engine: MigrationEngine;
  /**
   * `up` (openMigrationSession's `early`): the migration lock's first try (undefined with
   * --no-lock) and the states of these history tables, from the connection's first round trip.
   */
  early?: { locked: boolean | undefined; tables: MigrationTable[]; states: MigrationLogState[] } | undefined;
  close(): Promise<void>;
}

/** Checks the files, connects (waiting if asked) and returns a session on the target. */
export async function openMigrationSession(
  options: MigrateOptions,
  /** Try the migration lock and read the history tables' states in the first round trip (`up`). */
  early = false,
): Promise<MigrationSession> {
  const config = dbmateConfig(options.env);
  const engine = migrationEngine(options);
  const wanted = options.set ? [options.set] : SET_NAMES;
  // The folders are known before anything connects; their files are read below.
  const pgstore = pgstoreFolder();
  const app = wanted.includes('app') ? appFolder(options.migrationsDir, options.env, LEGACY_TABLE) : undefined;
  const readFiles = () => {
    loadSetFiles(pgstore);
    if (app) loadSetFiles(app);
  };
  const target = options.target;
  const wait = options.waitTimeoutSeconds ?? (config.wait ? (config.waitTimeoutSeconds ?? 60) : undefined);
  // pgstore's files (~3 ms to read and hash) and the app's are read while the connection is
  // made (TCP, startup, authentication), a file per turn of the event loop so that the server's
  // answers are handled between two files. Nothing is asked of the server before they are
  // checked: the first query (the lock's try among them) waits for them, and their error wins
  // over the connection's. Only for a running server: a broken folder neither waits for one
  // (--wait) nor starts the embedded one.
  const overlap = wait === undefined && target.kind === 'server';
  if (!overlap) readFiles();
  if (wait !== undefined) await waitForServer(await serverFor(target, { log: options.log }), wait, options.log);
  const filesRead = overlap
    ? (async () => {
        await loadSetFilesInTurns(pgstore);
        if (app) await loadSetFilesInTurns(app);
      })()
    : Promise.resolve();
  filesRead.catch(() => undefined); // awaited below, before the connection
  // closeIdle false: the session holds the migration lock while dbmate runs.
  // The session's facts are the round trip that proves the connection (no `select 1` first);
  // `early`: the same round trip tries the lock (pipelined behind it once the files are read)
  // and reads the history tables' states, the app's table taken where it is unless SET ROLE or
  // the current schema moves it (then `migrateUp` reads the states again).
  // The session's connection closing under it (its backend terminated, the server restarted)
  // takes the migration lock and the role with it. The pool is then ended at once: no query of
  // this run goes on to a new connection (postgres.js would reconnect without a word), and none
  // waits for good on the dead one (postgres.js can strand a query sent as its connection
  // closes: https://github.com/porsager/postgres/issues/1097, /issues/1199); each fails as a
  // lost connection instead.
  const held = { pool: undefined as Db | undefined, closing: false };
  const connecting = connectPool(target, {
    max: 1,
    fetchTypes: false,
    log: options.log,
    closeIdle: false,
    onclose: () => {
      if (!held.closing) held.pool?.end({ timeout: 0 }).catch(() => undefined);
    },
    prove: async (db, server) => {
      if (!early) {
        await filesRead; // a broken file: the pool is closed before any query (connectPool)
        return { facts: await sessionFacts(db), tables: [], locked: undefined, states: undefined };
      }
      const guess = app ? appMigrationsTable(options.env, server.params.search_path, 'public') : undefined;
      const tables = historyTables([pgstore, ...(guess && app ? [{ ...app, table: guess }] : [])], wanted);
      const lockName = options.lock === false ? undefined : MIGRATION_LOCK;
      if (!overlap) return { ...(await factsLockAndStates(db, lockName, tables)), tables };
      // The facts and states go out at once (a new backend's first query takes a few ms: the
      // files are read meanwhile); the lock is tried only once the files are checked, pipelined
      // behind them when they were read first (no round trip of its own). A broken file: the
      // lock is never taken, and connectPool closes the pool.
      const first = factsLockAndStates(db, undefined, tables);
      first.catch(() => undefined); // awaited below, after the files
      await filesRead;
      const locked = lockName === undefined ? undefined : await tryLockInline(db, lockName);
      return { ...(await first), locked, tables };
    },
  });
  connecting.catch(() => undefined); // awaited below, after the files
  await filesRead;
  const { sql, conn, proof } = await connecting;
  held.pool = sql;
  try {
    const facts = proof!.facts;
    let role: string | undefined;
    if (
      !conn.params.options &&
      !conn.role &&
      facts.owner !== conn.user &&
      facts.canBecomeOwner &&
      /^[a-z_][a-z0-9_$]*$/i.test(facts.owner)
    ) {
      // Migrations run as the database's owner role, so that it owns what they create.
      await setRole(sql, facts.owner);
      role = facts.owner;
    }
    const sets: MigrationSet[] = [];
    if (wanted.includes('pgstore')) sets.push(pgstore);
    if (app) {
      // After SET ROLE the role's own schema ("$user" in search_path) may come first: ask again.
      const schema = role ? await currentSchema(sql) : facts.schema;
      app.table = appMigrationsTable(options.env, conn.params.search_path, schema);
      if (sameTable(app.table, PGSTORE_TABLE)) {
        throw new UsageError(`the application's migrations table ${qualified(app.table)} is pgstore's own`, {
          hint: 'Set DBMATE_MIGRATIONS_TABLE to another name.',
        });
      }
      sets.push(app);
    }
    return {
      sql,
      conn: role ? { ...conn, role } : conn,
      ssl: facts.ssl,
      superuser: facts.superuser,
      sets,
      pgstoreFiles: pgstore.files,
      strict: !!options.strict || config.strict,
      engine,
      early: proof!.states ? { locked: proof!.locked, tables: proof!.tables, states: proof!.states } : undefined,
      // Every query is answered by then (the lock's release among them): the Terminate goes
      // out and the socket is let go without waiting for the server to close its end.
      close: () => {
        held.closing = true;
        return endPromptly(sql);
      },
    };
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    throw error;
  }
}

export const sameTable = (a: MigrationTable, b: MigrationTable) => a.schema === b.schema && a.name === b.name;

/** The legacy table and each present set's (of those `wanted`), once each. */
export function historyTables(sets: MigrationSet[], wanted: readonly SetName[] = SET_NAMES): MigrationTable[] {
  const tables: MigrationTable[] = [];
  const chosen = sets.filter((s) => s.present && wanted.includes(s.name));
  for (const t of [LEGACY_TABLE, ...chosen.map((s) => s.table)])
    if (!tables.some((x) => sameTable(x, t))) tables.push(t);
  return tables;
}

/** The app's folder as the user would name it, for messages. */
export const appDirLabel = (options: MigrateOptions) => appMigrationsDir(options.migrationsDir, options.env).dir;

/** Rows the caller has read already (under the lock): the set's table's, and pgstore's rows in the legacy table. */
export interface KnownRows {
  rows?: AppliedMigration[];
  legacy?: AppliedMigration[];
}

/**
 * The set's applied migrations, oldest first. pgstore's include its rows still in the legacy
 * table (a database migrated before sets); the app's exclude them.
 */
export async function appliedIn(
  sql: Db,
  set: MigrationSet,
  pgstoreFiles: MigrationFile[],
  known: KnownRows = {},
): Promise<AppliedMigration[]> {
  const rows = known.rows ?? (await appliedMigrations(sql, set.table));
  const legacy =
    known.legacy ??
    (set.name === 'pgstore' || sameTable(set.table, LEGACY_TABLE) ? await legacyPgstoreRows(sql, pgstoreFiles) : []);
  if (set.name === 'app') {
    const theirs = new Set(legacy.map((r) => r.version));
    return rows.filter((r) => !theirs.has(r.version));
  }
  const have = new Set(rows.map((r) => r.version));
  return [...rows, ...legacy.filter((r) => !have.has(r.version))].sort((a, b) =>
    a.version < b.version ? -1 : a.version > b.version ? 1 : 0,
  );
}

/**
 * Runs `fn` under the migration lock (unless disabled). `prefetch`, a read-only query, is sent
 * on the same connection together with the lock's first try (pipelined: one round trip, not
 * two) and its result handed to `fn`; when the lock had to be waited for, it is run again once
 * the lock is held. It must be a read whose answer may only be stale in ways `fn` tolerates
 * (what exists only grows).
 */
export async function locked<T, P = undefined>(
  session: MigrationSession,
  options: MigrateOptions,
  fn: (prefetched: P | undefined) => Promise<T>,
  prefetch?: () => Promise<P>,
  /** The lock's first try already made on this session, and what `prefetch` read alongside it (if it did). */
  tried?: { locked: boolean | undefined; prefetched: P | undefined },
): Promise<T> {
  if (options.lock === false)
    return fn(tried?.prefetched !== undefined ? tried.prefetched : prefetch ? await prefetch() : undefined);
  let waited = false;
  const acquiring = acquireAdvisoryLock(session.sql, session.conn.database, MIGRATION_LOCK, {
    purpose: 'the migration lock',
    timeoutSeconds: options.lockTimeoutSeconds ?? 300,
    onWait: (holder) => {
      waited = true;
      options.log?.(`Waiting for the migration lock (held by ${holder})...`);
    },
    hint: `Wait for it to finish, raise --migration-lock-timeout (now ${options.lockTimeoutSeconds ?? 300} s), or use --no-lock where a pooler cannot hold session locks.`,
    firstTry: tried?.locked,
  });
  const early = tried?.prefetched !== undefined ? undefined : prefetch?.();
  early?.catch(() => undefined); // awaited below, or superseded when the lock was waited for
  const lock = await acquiring;
  let result: T;
  try {
    const prefetched = prefetch
      ? waited || (tried?.prefetched === undefined && !early)
        ? await prefetch()
        : (tried?.prefetched ?? (await early))
      : undefined;
    result = await fn(prefetched);
  } catch (error) {
    // The migration's own error is the one to report: an unlock that fails too (the session
    // died with it, which also ends a session lock) must not hide it.
    await lock.release().catch(() => undefined);
    throw error;
  }
  await lock.release();
  return result;
}

/**
 * The URL dbmate gets for a set: same server, credentials and role, the sslmode our session
 * ended up with, and lock_timeout / statement_timeout in `options` (lib/pq sends it as the
 * startup parameter, as libpq's PGOPTIONS). pgstore's own set runs with the server's
 * search_path, whatever the URL says: its objects are its own.
 */
export function dbmateUrl(
  session: Pick<MigrationSession, 'conn' | 'ssl' | 'superuser'>,
  set: Pick<MigrationSet, 'name'>,
  options: Pick<MigrateOptions, 'pgLockTimeoutMs' | 'statementTimeoutMs'>,
): string {
  const { conn } = session;
  const fixed =
    conn.sslmode === 'require' ||
    conn.sslmode === 'verify-ca' ||
    conn.sslmode === 'verify-full' ||
    conn.sslmode === 'disable';
  const sslmode = fixed ? conn.sslmode : session.ssl ? 'require' : 'disable';
  // dbmate (lib/pq) honours connect_timeout; without it, it would wait for a silent port for good.
  const params: Record<string, string> = { connect_timeout: String(conn.pool.acquireTimeoutSeconds), ...conn.params };
  if (set.name === 'pgstore') delete params.search_path;
  const lockMs = options.pgLockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const settings = [
    startupOptions(conn), // the URL's own options, then the switch to the owner role
    `-c lock_timeout=${Math.round(lockMs)}`,
    // dbmate's driver reports no SQLSTATE: messages in English let a lock timeout be recognised
    // (isLockTimeout). Only a superuser may set lc_messages; other roles get the server's.
    session.superuser && !/lc_messages/.test(conn.params.options ?? '') ? '-c lc_messages=C' : undefined,
    options.statementTimeoutMs !== undefined
      ? `-c statement_timeout=${Math.round(options.statementTimeoutMs)}`
      : undefined,
  ].filter(Boolean);
  params.options = settings.join(' ');
  return connectionUrl({ ...conn, role: undefined, params, sslmode });
}
