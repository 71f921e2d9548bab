/**
 * `pgstore migrate up | down`: dbmate underneath, with what dbmate lacks: a lock so that
 * concurrent runs apply each migration once, pre-flight checks of the files, checksums of
 * what was applied, and a clear report when a migration fails.
 */
import { acquireAdvisoryLock } from '../db/advisory-lock.js';
import { connectionUrl, describeTarget, type ServerConnection } from '../db/config.js';
import { connectPool, type Db, serverFor, waitForServer } from '../db/pool.js';
import { sessionFacts, setRole } from '../store/admin.js';
import { PgstoreError, UsageError } from '../errors.js';
import { appliedMigrations, type AppliedMigration, ensureMigrationLog, recordChecksums } from '../store/migration-log.js';
import { runDbmate } from '../tools/dbmate.js';
import { defaultMigrationsDir, findDrift, type MigrationFile, readMigrations } from './migration-files.js';
import { type Confirm, type CoreOptions, guardProduction, targetOf } from './options.js';
import { getEnvironment } from '../store/environment.js';

export interface MigrateOptions extends CoreOptions {
  /** The folder of migrations (default: pgstore's own). */
  migrationsDir?: string | undefined;
  /** Hold the migration lock (default true; false for poolers that cannot hold one). */
  lock?: boolean;
  lockTimeoutSeconds?: number;
  /** Refuse pending migrations older than the newest applied, and edited applied files. */
  strict?: boolean;
  /** Keep trying while the server is unreachable. */
  waitTimeoutSeconds?: number | undefined;
}

export interface MigrationRef {
  version: string;
  name: string;
  filename: string;
}

export interface MigrateResult {
  database: string;
  applied: MigrationRef[];
  rolledBack: MigrationRef[];
  durationMs: number;
}

/** A migration failed: which file, the SQL error, and the state the database is in. */
export class MigrationFailedError extends PgstoreError {}

export const MIGRATION_LOCK = 'pgstore:migrate';

const ref = (f: MigrationFile): MigrationRef => ({ version: f.version, name: f.name, filename: f.filename });

export interface MigrationSession {
  /** One connection: the lock, the checks and the bookkeeping all run on it. */
  sql: Db;
  /** The connection; its options carry `-c role=<owner>` when migrations run as the owner. */
  conn: ServerConnection;
  /** Whether our session is encrypted (dbmate gets the same). */
  ssl: boolean;
  files: MigrationFile[];
  dir: string;
  close(): Promise<void>;
}

/** Checks the files, connects (waiting if asked) and returns a session on the target. */
export async function openMigrationSession(options: MigrateOptions): Promise<MigrationSession> {
  const dir = options.migrationsDir ?? defaultMigrationsDir();
  const files = readMigrations(dir);
  const target = targetOf(options);
  if (options.waitTimeoutSeconds !== undefined) {
    await waitForServer(await serverFor(target, { log: options.log }), options.waitTimeoutSeconds, options.log);
  }
  // closeIdle false: the session holds the migration lock while dbmate runs.
  const { sql, conn } = await connectPool(target, { max: 1, fetchTypes: false, log: options.log, closeIdle: false });
  try {
    const facts = await sessionFacts(sql);
    let session = conn;
    if (!conn.params.options && facts.owner !== conn.user && facts.canBecomeOwner && /^[a-z_][a-z0-9_$]*$/i.test(facts.owner)) {
      // Migrations run as the database's owner role, so that it owns what they create.
      await setRole(sql, facts.owner);
      session = { ...conn, params: { ...conn.params, options: `-c role=${facts.owner}` } };
    }
    return { sql, conn: session, ssl: facts.ssl, files, dir, close: () => sql.end({ timeout: 5 }) };
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    throw error;
  }
}

/** Runs `fn` under the migration lock (unless disabled). */
async function locked<T>(session: MigrationSession, options: MigrateOptions, fn: () => Promise<T>): Promise<T> {
  if (options.lock === false) return fn();
  const lock = await acquireAdvisoryLock(session.sql, session.conn.database, MIGRATION_LOCK, {
    purpose: 'the migration lock',
    timeoutSeconds: options.lockTimeoutSeconds ?? 300,
    onWait: (holder) => options.log?.(`Waiting for the migration lock (held by ${holder})...`),
  });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** The URL dbmate gets: same server, credentials and role, and the sslmode our session ended up with. */
export function dbmateUrl(session: Pick<MigrationSession, 'conn' | 'ssl'>): string {
  const { conn } = session;
  const fixed = conn.sslmode === 'require' || conn.sslmode === 'verify-ca' || conn.sslmode === 'verify-full' || conn.sslmode === 'disable';
  const sslmode = fixed ? conn.sslmode : session.ssl ? 'require' : 'disable';
  // dbmate (lib/pq) honours connect_timeout; without it, it would wait for a silent port for good.
  const params = { connect_timeout: String(conn.pool.acquireTimeoutSeconds), ...conn.params };
  return connectionUrl({ ...conn, sslmode, params });
}

/** Applies every pending migration. */
export async function migrateUp(options: MigrateOptions): Promise<MigrateResult> {
  const started = performance.now();
  const session = await openMigrationSession(options);
  try {
    const applied = await locked(session, options, async () => {
      await ensureMigrationLog(session.sql);
      const before = await appliedMigrations(session.sql);
      const done = new Set(before.map((m) => m.version));
      const pending = session.files.filter((f) => !done.has(f.version));
      checkStrict(session.files, before, pending, options);
      if (pending.length === 0) return [];
      const run = await runDbmate('migrate', { url: dbmateUrl(session), migrationsDir: session.dir });
      const after = new Set((await appliedMigrations(session.sql)).map((m) => m.version));
      const newly = session.files.filter((f) => after.has(f.version) && !done.has(f.version));
      await recordChecksums(session.sql, newly);
      if (run.failed) throw failure(run, session, newly, 'up');
      return newly;
    });
    return { database: session.conn.database, applied: applied.map(ref), rolledBack: [], durationMs: Math.round(performance.now() - started) };
  } finally {
    await session.close();
  }
}

export interface MigrateDownOptions extends MigrateOptions {
  /** Roll back this many migrations (default 1). */
  steps?: number | undefined;
  /** Roll back every migration newer than this version ('0' for all). */
  to?: string | undefined;
  /** Asked before anything is rolled back. */
  confirm?: Confirm;
  /** Allow rolling back a database marked production. */
  forceProduction?: boolean;
}

/** Rolls back the newest migration(s). */
export async function migrateDown(options: MigrateDownOptions): Promise<MigrateResult> {
  const started = performance.now();
  const session = await openMigrationSession(options);
  try {
    const rolledBack = await locked(session, options, async () => {
      const applied = await appliedMigrations(session.sql);
      const victims = chooseVictims(applied, options);
      const byVersion = new Map(session.files.map((f) => [f.version, f]));
      const files = victims.map((m) => byVersion.get(m.version));
      const problems = victims.flatMap((m, i) => {
        const file = files[i];
        if (!file) return [`${m.version} has no file in ${session.dir}`];
        return file.hasDown ? [] : [`${file.filename} has no '-- migrate:down' section`];
      });
      if (problems.length) throw new UsageError(`cannot roll back: ${problems.join('; ')}`, { hint: 'Nothing was rolled back.' });
      if (victims.length === 0) return [];
      const plan = {
        action: `roll back ${victims.length} migration(s)`,
        target: describeTarget(session.conn),
        environment: await getEnvironment(session.sql),
        details: (files as MigrationFile[]).map((f) => f.filename),
      };
      guardProduction(plan, options.forceProduction);
      await options.confirm?.(plan);
      const url = dbmateUrl(session);
      const done: MigrationFile[] = [];
      for (const file of files as MigrationFile[]) {
        const run = await runDbmate('rollback', { url, migrationsDir: session.dir });
        if (run.failed) throw failure(run, session, done, 'down');
        done.push(file);
      }
      return done;
    });
    return { database: session.conn.database, applied: [], rolledBack: rolledBack.map(ref), durationMs: Math.round(performance.now() - started) };
  } finally {
    await session.close();
  }
}

function chooseVictims(applied: AppliedMigration[], options: MigrateDownOptions): AppliedMigration[] {
  const newestFirst = [...applied].reverse();
  if (options.to !== undefined) {
    if (options.to !== '0' && !applied.some((m) => m.version === options.to)) {
      throw new UsageError(`--to ${options.to}: no applied migration has that version`, { hint: 'See `pgstore migrate status`; use --to 0 to roll back everything.' });
    }
    return newestFirst.filter((m) => m.version > options.to!);
  }
  const steps = options.steps ?? 1;
  if (steps > applied.length) {
    throw new UsageError(`--steps ${steps}: only ${applied.length} migration(s) are applied`, { hint: 'Nothing was rolled back.' });
  }
  return newestFirst.slice(0, steps);
}

function checkStrict(files: MigrationFile[], applied: AppliedMigration[], pending: MigrationFile[], options: MigrateOptions): void {
  if (!options.strict) return;
  const newest = applied.at(-1)?.version;
  const older = newest ? pending.filter((f) => f.version < newest) : [];
  const drift = findDrift(files, applied);
  const problems = [
    ...older.map((f) => `${f.filename} is pending but older than the newest applied migration ${newest}`),
    ...drift.map((d) => `${d.filename} was ${d.problem === 'edited' ? 'edited after it was applied' : 'applied but its file is missing'}`),
  ];
  if (problems.length) {
    throw new UsageError(`--strict: ${problems.join('; ')}`, { hint: 'Nothing was applied. Rename the file to a newer version, or restore the applied file.' });
  }
}

function failure(run: Awaited<ReturnType<typeof runDbmate>>, session: MigrationSession, done: MigrationFile[], direction: 'up' | 'down'): MigrationFailedError {
  const file = session.files.find((f) => f.filename === run.current);
  const what = file ? `migration ${file.filename}` : 'dbmate';
  const error = run.error ?? `dbmate ${run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`}`;
  const before = done.length ? `${done.length} migration(s) ${direction === 'up' ? 'applied' : 'rolled back'} before it (${done.map((f) => f.version).join(', ')})` : 'nothing else changed in this run';
  const state = !file
    ? 'check `pgstore migrate status`'
    : file.transactional
      ? `${file.filename} was rolled back as a whole (it runs in a transaction); ${before}`
      : `${file.filename} runs without a transaction (transaction:false) and may be partly applied; ${before}`;
  return new MigrationFailedError(`${what} failed ${direction === 'up' ? 'to apply' : 'to roll back'} on ${describeTarget(session.conn)}: ${error}`, {
    hint: `Database state: ${state}. Fix the file and run the command again.`,
  });
}
