/**
 * `pgstore setup`: the database, an owner role and a least-privilege application role, the
 * extensions, the migrations, and the environment marker. Idempotent: a second run changes
 * nothing and says so.
 */
import { randomBytes } from 'node:crypto';
import { describeTarget, type ServerConnection } from '../../db/config.js';
import { acquireAdvisoryLock } from '../../db/advisory-lock.js';
import {
  connectionError,
  type Db,
  isConnectFailure,
  openPool,
  serverFor,
  type SharedPool,
  sharedPool,
  withPool,
} from '../../db/pool.js';
import { registerSecret } from '../../util/redact.js';
import { PrivilegeError, UsageError } from '../../errors.js';
import * as admin from '../../store/admin/index.js';
import { type EnvironmentName, getEnvironment, setEnvironment } from '../../store/admin/index.js';
import { type MigrateOptions, migrateUp } from '../migrate/index.js';
import { type FixtureResult, seedFixtures } from '../seed/index.js';

export { PrivilegeError } from '../../errors.js';

export const APP_SCHEMAS = ['auth', 'tenancy', 'hosts'];
export const EXTENSIONS = ['pg_trgm'];

export interface SetupOptions extends MigrateOptions {
  environment?: EnvironmentName;
  /** Owner role name (default <database>_owner). */
  ownerRole?: string;
  /** Application role name (default <database>_app). */
  appRole?: string;
  /** Load the built-in data set for the environment afterwards (development or test). */
  seed?: boolean;
  /** Allow seeding a database marked production. */
  forceProduction?: boolean;
}

export interface SetupResult {
  database: string;
  target: string;
  databaseCreated: boolean;
  roles: Array<{ name: string; purpose: 'owner' | 'application'; created: boolean }>;
  /** The application role's password, only when this run created the role and generated it. */
  appPassword: string | null;
  /** Where the application role's password came from. */
  appPasswordSource: 'generated' | 'PGSTORE_APP_PASSWORD' | 'unchanged';
  extensionsCreated: string[];
  migrationsApplied: string[];
  environment: EnvironmentName;
  environmentChanged: boolean;
  changed: boolean;
  /** What --seed loaded. */
  seeded: FixtureResult | null;
  durationMs: number;
}

const safeName = (db: string) => db.replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase();

/**
 * Creates (or checks) everything the database needs; safe to run again, and safe to run
 * concurrently: runs for the same database take turns (an advisory lock held in the server's
 * `postgres` database, since the target may not exist yet), so the second finds everything made
 * instead of failing on "role already exists" or a duplicate pg_database entry.
 */
export async function setup(options: SetupOptions, adminSql?: Db): Promise<SetupResult> {
  // `adminSql`: a one-connection pool on the server's `postgres` database the caller (reset)
  // already holds, used instead of opening another (as the lock's session too).
  const started = performance.now();
  const conn = await serverFor(options.target, { log: options.log });
  if (options.lock === false) {
    if (adminSql) return setupLocked(options, conn, started, adminSql);
    const sql = await openPool(conn, { database: 'postgres', max: 1 });
    try {
      return await setupLocked(options, conn, started, sql);
    } finally {
      await sql.end({ timeout: 5 }).catch(() => undefined);
    }
  }
  if (adminSql) return setupUnderLock(options, conn, started, adminSql);
  // Proven with a round trip within the connect deadline, so that a server that is not there
  // (or not PostgreSQL) is reported like everywhere else.
  // closeIdle false: the session holds the setup lock while it waits idle through the
  // migrations and the seed; an idle timeout (the URL's idle_timeout) would end it, and the lock.
  return withPool(conn, { database: 'postgres', max: 1, closeIdle: false }, (lockSql) =>
    setupUnderLock(options, conn, started, lockSql),
  );
}

/**
 * Takes the setup lock on `lockSql` (a one-connection pool on `postgres`) and sets up. The
 * admin steps run on that same session: they are statements one after another that leave the
 * session as it was (no SET, no open transaction), and the lock is released after them.
 */
async function setupUnderLock(
  options: SetupOptions,
  conn: ServerConnection,
  started: number,
  lockSql: Db,
): Promise<SetupResult> {
  const lock = await acquireAdvisoryLock(lockSql, conn.database, `pgstore setup ${conn.database}`, {
    purpose: 'the setup lock',
    timeoutSeconds: options.lockTimeoutSeconds ?? 300,
    onWait: (holder) => options.log?.(`Waiting for another setup of ${conn.database} (${holder})...`),
    hint: `Another \`pgstore setup\` of this database is running: wait for it, raise --lock-timeout (now ${options.lockTimeoutSeconds ?? 300} s), or use --no-lock where a pooler cannot hold session locks.`,
  });
  try {
    return await setupLocked(options, conn, started, lockSql);
  } finally {
    await lock.release().catch(() => undefined);
  }
}

/** Sets up the database; `adminSql` is a session on the server's `postgres` database. */
async function setupLocked(
  options: SetupOptions,
  conn: ServerConnection,
  started: number,
  adminSql: Db,
): Promise<SetupResult> {
  const database = conn.database;
  const ownerRole = options.ownerRole ?? `${safeName(database)}_owner`;
  const appRole = options.appRole ?? `${safeName(database)}_app`;
  const log = options.log ?? (() => undefined);

  const roles: SetupResult['roles'] = [];
  let appPassword: string | null = null;
  let appPasswordSource: SetupResult['appPasswordSource'] = 'unchanged';
  let databaseCreated = false;

  // The checks and creations that need no database yet, on the `postgres` session.
  const sql = adminSql;
  try {
    const me = await admin.currentPrivileges(sql);
    const exists = await admin.databaseExists(sql, database);
    const missing: string[] = [];
    const ownerExists = await admin.roleExists(sql, ownerRole);
    const appExists = await admin.roleExists(sql, appRole);
    if ((!ownerExists || !appExists) && !me.superuser && !me.createRole)
      missing.push(
        `CREATEROLE (to create ${[!ownerExists && ownerRole, !appExists && appRole].filter(Boolean).join(' and ')})`,
      );
    if (!exists && !me.superuser && !me.createDb) missing.push(`CREATEDB (to create database ${database})`);
    if (missing.length) {
      throw new PrivilegeError(
        `role '${me.user}' may not set up ${describeTarget(conn)}: it lacks ${missing.join(' and ')}`,
        {
          hint: `Ask an administrator to run the missing steps, e.g. \`ALTER ROLE ${me.user} CREATEDB CREATEROLE\`, or to create the database and roles for you.`,
        },
      );
    }
    if (!ownerExists) {
      log(`Creating role ${ownerRole} (owns the database and its objects)...`);
      await admin.createOwnerRole(sql, ownerRole);
    }
    roles.push({ name: ownerRole, purpose: 'owner', created: !ownerExists });
    if (!(await admin.canBecome(sql, me.user, ownerRole))) await admin.grantRole(sql, ownerRole, me.user);
    if (!appExists) {
      const fromEnv = options.env.PGSTORE_APP_PASSWORD;
      const password = fromEnv || randomBytes(18).toString('base64url');
      registerSecret(password);
      log(`Creating role ${appRole} (the application's login, data access only)...`);
      await admin.createLoginRole(sql, appRole, password);
      appPassword = fromEnv ? null : password;
      appPasswordSource = fromEnv ? 'PGSTORE_APP_PASSWORD' : 'generated';
    }
    roles.push({ name: appRole, purpose: 'application', created: !appExists });
    if (!exists) {
      log(`Creating database ${database}...`);
      await admin.createDatabase(sql, database, ownerRole);
      databaseCreated = true;
    }
  } catch (error) {
    throw isConnectFailure(error) ? connectionError(error, conn, 'postgres') : error;
  }

  // One session on the database for the steps before and after the migrations (which run on
  // their own session, holding the migration lock, while dbmate connects on its own).
  // closeIdle false: it waits idle while the migrations run.
  const onDatabase = sharedPool(conn, database, { pool: { closeIdle: false } });
  try {
    return await setupDatabase(options, conn, onDatabase, {
      started,
      ownerRole,
      appRole,
      roles,
      appPassword,
      appPasswordSource,
      databaseCreated,
    });
  } finally {
    await onDatabase.end();
  }
}

/** The steps of setup inside the database: extensions, migrations, grants, the marker, the seed. */
async function setupDatabase(
  options: SetupOptions,
  conn: ServerConnection,
  onDatabase: SharedPool,
  done: Pick<SetupResult, 'roles' | 'appPassword' | 'appPasswordSource' | 'databaseCreated'> & {
    started: number;
    ownerRole: string;
    appRole: string;
  },
): Promise<SetupResult> {
  const { started, ownerRole, appRole, roles, appPassword, appPasswordSource, databaseCreated } = done;
  const database = conn.database;
  const log = options.log ?? (() => undefined);
  const { extensionsCreated, owner } = await onDatabase.run(async (sql) => {
    const owner = await adoptEmptyDatabase(sql, conn, ownerRole, log);
    // Before SET ROLE: on PostgreSQL 14 the public schema belongs to the superuser.
    const { stillGranted } = await admin.securePublicSchema(sql, owner);
    if (stillGranted) {
      log(
        `Warning: every role may create tables in schema public of ${database} (PostgreSQL 14 and older allow it), the application role included; ask its owner to run REVOKE CREATE ON SCHEMA public FROM PUBLIC.`,
      );
    }
    // As the owner, so that the owner's migrations can drop them again (trusted extensions).
    if (owner !== conn.user) await admin.setRole(sql, owner);
    const created: string[] = [];
    for (const name of EXTENSIONS) if (await admin.createExtension(sql, name)) created.push(name);
    return { extensionsCreated: created, owner };
  });

  const migrated = await migrateUp({ ...options, target: conn });
  const { environment, environmentChanged } = await finish(conn, onDatabase, {
    ownerRole: owner,
    appRole,
    wanted: options.environment,
    forceProduction: options.forceProduction,
  });

  const seeded = options.seed
    ? await seedFixtures({
        ...options,
        target: conn,
        set: environment === 'test' ? 'test' : 'development',
        forceProduction: options.forceProduction,
      })
    : null;
  const changed =
    (seeded?.created.length ?? 0) > 0 ||
    databaseCreated ||
    roles.some((r) => r.created) ||
    extensionsCreated.length > 0 ||
    migrated.applied.length > 0 ||
    environmentChanged;
  return {
    database,
    target: describeTarget(conn),
    databaseCreated,
    roles,
    appPassword,
    appPasswordSource,
    extensionsCreated,
    migrationsApplied: migrated.applied.map((m) => m.filename),
    environment,
    environmentChanged,
    changed,
    seeded,
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * The role that owns the database. An empty database owned by someone else (such as the
 * embedded server's default one) is handed to the owner role; one with objects keeps its owner.
 */
async function adoptEmptyDatabase(
  sql: Db,
  conn: ServerConnection,
  ownerRole: string,
  log: (m: string) => void,
): Promise<string> {
  const current = (await admin.databaseOwner(sql, conn.database)) ?? conn.user;
  if (current === ownerRole) return ownerRole;
  const me = await admin.currentPrivileges(sql);
  if ((me.superuser || me.user === current) && (await admin.userObjectCount(sql)) === 0) {
    log(`Handing the empty database ${conn.database} to ${ownerRole}...`);
    await admin.setDatabaseOwner(sql, conn.database, ownerRole);
    return ownerRole;
  }
  log(`Database ${conn.database} already has objects owned by ${current}; keeping that owner.`);
  return current;
}

/**
 * Grants for the application role, and the environment marker: kept as it is unless --env
 * says otherwise (default development for an unmarked database). Unmarking production needs
 * --force-production, since that marker is what protects the database from reset and seed.
 */
async function finish(
  conn: ServerConnection,
  onDatabase: SharedPool,
  o: { ownerRole: string; appRole: string; wanted: EnvironmentName | undefined; forceProduction: boolean | undefined },
): Promise<{ environment: EnvironmentName; environmentChanged: boolean }> {
  return onDatabase.run(async (sql) => {
    // As the owner. The session did SET ROLE for the extensions already; again here, since
    // a session lost while the migrations ran is replaced by a new one without it.
    if (o.ownerRole !== conn.user) await admin.setRole(sql, o.ownerRole);
    await admin.grantAppAccess(sql, {
      database: conn.database,
      app: o.appRole,
      owner: o.ownerRole,
      schemas: APP_SCHEMAS,
    });
    const before = await getEnvironment(sql);
    const environment = o.wanted ?? before ?? 'development';
    if (before === 'production' && environment !== 'production' && !o.forceProduction) {
      throw new UsageError(`refusing to mark ${describeTarget(conn)} as ${environment}: it is marked as production`, {
        hint: 'If it really is no longer production, add --force-production.',
      });
    }
    if (before !== environment) await setEnvironment(sql, environment);
    return { environment, environmentChanged: before !== environment };
  });
}
