/**
 * `pgstore reset`: drop and recreate the database (or only pgstore's schemas), then set it up
 * again. Asks first; refuses a database marked production unless told twice.
 */
import { describeTarget, type ServerConnection } from '../../db/config.js';
import { type Db, openPool, serverFor, sharedPool, withPool } from '../../db/pool.js';
import { ConflictError } from '../../errors.js';
import * as admin from '../../store/admin/index.js';
import { getEnvironment } from '../../store/admin/index.js';
import { defaultMigrationsDir, readMigrations } from '../migrate/index.js';
import { forgetMigrations, LEGACY_TABLE, PGSTORE_TABLE } from '../../store/admin/index.js';
import { type Confirm, guardProduction } from '../options.js';
import { APP_SCHEMAS, setup, type SetupOptions, type SetupResult } from './setup.js';
import { plural } from '../../util/format.js';

export interface ResetOptions extends SetupOptions {
  /** Drop only pgstore's schemas (auth, tenancy, hosts, pgstore), not the database. */
  schemasOnly?: boolean;
  /** Terminate other sessions on the database instead of refusing. */
  force?: boolean;
  forceProduction?: boolean;
  confirm?: Confirm;
  /** Take a backup (pgstore backup, label before-reset) before dropping anything. */
  backupFirst?: boolean;
  /** Where that backup goes (else PGSTORE_BACKUP_DIR, else the default). */
  backupDir?: string | undefined;
}

export interface ResetResult {
  dropped: 'database' | 'schemas';
  terminatedSessions: number;
  /** The backup taken first (--backup-first), or null. */
  backup: { id: string; path: string } | null;
  setup: SetupResult;
}

/** Drops and rebuilds the target database. */
export async function reset(options: ResetOptions): Promise<ResetResult> {
  const conn = await serverFor(options.target, { log: options.log });
  // One session on `postgres` for the whole reset, setup's (and its lock's) included.
  // closeIdle false: setup takes its lock on this session and waits idle through the migrations.
  const adminSql = await openPool(conn, { database: 'postgres', max: 1, closeIdle: false });
  try {
    return await resetWith(options, conn, adminSql);
  } finally {
    await adminSql.end({ timeout: 5 }).catch(() => undefined);
  }
}

async function resetWith(options: ResetOptions, conn: ServerConnection, adminSql: Db): Promise<ResetResult> {
  const target = describeTarget(conn);
  const onAdmin = sharedPool(conn, 'postgres', { opened: adminSql });
  const exists = await onAdmin.run((sql) => admin.databaseExists(sql, conn.database));
  const environment = exists ? await withPool(conn, { max: 1 }, (sql) => getEnvironment(sql)) : null;
  const sessions = exists ? await onAdmin.run((sql) => admin.otherSessions(sql, conn.database)) : [];
  const plan = {
    action: options.schemasOnly
      ? `drop pgstore's schemas (${[...APP_SCHEMAS, 'pgstore'].join(', ')}) and rebuild them`
      : 'drop and recreate the database',
    target,
    environment,
    details: sessions.map(
      (s) => `connected: pid ${s.pid} ${s.user} ${s.application || '?'} ${s.client ?? 'local'} (${s.state ?? '?'})`,
    ),
  };
  guardProduction(plan, options.forceProduction);
  if (sessions.length && !options.force) {
    throw new ConflictError(
      `${plural(sessions.length, 'other session')} ${sessions.length === 1 ? 'is' : 'are'} connected to ${conn.database}: ${sessions.map((s) => `pid ${s.pid} (${s.user}, ${s.application || '?'})`).join(', ')}`,
      {
        hint: 'Close them, or pass --force to terminate them.',
      },
    );
  }
  await options.confirm?.(plan);

  let backup: ResetResult['backup'] = null;
  if (options.backupFirst && exists) {
    const { backup: takeBackup } = await import('../backup/index.js');
    const taken = await takeBackup({
      target: conn,
      env: options.env,
      log: options.log,
      dir: options.backupDir,
      label: 'before-reset',
      verify: 'read',
    });
    backup = { id: taken.id, path: taken.path };
  }

  let terminated = 0;
  if (options.schemasOnly) {
    if (options.force) terminated = await onAdmin.run((sql) => admin.terminateSessions(sql, conn.database));
    // pgstore's own set only: the application's migrations and their history stay.
    const versions = readMigrations(defaultMigrationsDir()).map((f) => f.version);
    const onDatabase = sharedPool(conn, conn.database);
    try {
      await onDatabase.run(async (sql) => {
        await admin.dropSchemas(sql, [...APP_SCHEMAS, 'pgstore']);
        await forgetMigrations(sql, PGSTORE_TABLE, versions);
        await forgetMigrations(sql, LEGACY_TABLE, versions); // a database migrated before migration sets
      });
    } finally {
      await onDatabase.end();
    }
  } else {
    await onAdmin.run(async (sql) => {
      if (options.force) terminated = await admin.terminateSessions(sql, conn.database);
      await admin.dropDatabase(sql, conn.database, !!options.force);
    });
  }
  const rebuilt = await setup(
    {
      ...options,
      target: conn,
      environment: options.environment ?? (environment as SetupOptions['environment']) ?? 'development',
    },
    adminSql,
  );
  return {
    dropped: options.schemasOnly ? 'schemas' : 'database',
    terminatedSessions: terminated,
    backup,
    setup: rebuilt,
  };
}
