/**
 * Scratch databases for `migrate plan --rehearse` and `migrate diff`: named
 * `pgstore_scratch_<12 hex>`, marked in use by a session advisory lock held for their whole
 * life, and dropped when the work ends, fails, or the process is told to stop (SIGTERM,
 * Ctrl+C). One left by a process killed outright (its lock is free) is dropped by the next run.
 */
import { randomBytes } from 'node:crypto';
import type { ServerConnection } from '../../db/config.js';
import { connectPool } from '../../db/pool.js';
import { PgstoreError } from '../../errors.js';
import { advisoryUnlock, databasesMatching, dropDatabaseIfExists, tryAdvisoryLock } from '../../store/admin/index.js';
import { onStop } from '../../util/critical.js';

const PREFIX = 'pgstore_scratch_';
/** Ours, and the temporary copies restore makes of ours (`<name>_pgstore_restore_...`). */
const PATTERN = `^${PREFIX}[0-9a-f]{12}($|_pgstore_)`;
const lockName = (base: string) => `pgstore:scratch:${base}`;

export interface Scratch {
  name: string;
  /** Same server and credentials, the scratch database. */
  conn: ServerConnection;
  /** Scratch databases of killed runs that were dropped first. */
  leftoversDropped: string[];
}

/**
 * Runs `fn` with a fresh scratch database name on `conn`'s server (created by `create`, or
 * by `fn` itself), and drops it (and restore's temporary copies of it) afterwards, whatever happens.
 */
export async function withScratchDatabase<T>(
  conn: ServerConnection,
  create: ((admin: ServerConnection, name: string) => Promise<void>) | null,
  fn: (scratch: Scratch) => Promise<T>,
): Promise<T> {
  const name = `${PREFIX}${randomBytes(6).toString('hex')}`;
  const admin = { ...conn, database: 'postgres' };
  const { sql } = await connectPool(admin, { max: 1, closeIdle: false });
  const dropAll = async () => {
    for (const db of await databasesMatching(sql, `^${name}($|_pgstore_)`)) await dropDatabaseIfExists(sql, db);
  };
  let off: () => void = () => {};
  let stopped = false;
  try {
    await tryAdvisoryLock(sql, lockName(name));
    const leftoversDropped = await dropLeftovers(sql, name);
    off = onStop(async () => {
      stopped = true;
      await dropAll();
    });
    if (create) {
      await create(admin, name).catch((error: unknown) => {
        if ((error as { code?: string }).code === '42501') {
          throw new PgstoreError(
            `role ${conn.user} may not create a database, which this command needs (a scratch copy)`,
            {
              hint: 'Run it as a role with CREATEDB (or a superuser).',
              cause: error,
            },
          );
        }
        throw error;
      });
    }
    const there = { ...conn, database: name };
    const result = await fn({ name, conn: there, leftoversDropped });
    if (stopped) return new Promise<T>(() => undefined);
    return result;
  } catch (error) {
    // Stopped by a signal: the failure is the drop's doing, not the work's. Never settle, so
    // the CLI exits with the signal's code once the drop is done (as util/critical.ts does).
    if (stopped) return new Promise<T>(() => undefined);
    throw error;
  } finally {
    if (!stopped) {
      await dropAll().catch(() => undefined);
      off();
      await advisoryUnlock(sql, lockName(name)).catch(() => undefined);
      await sql.end({ timeout: 5 });
    }
  }
}

/** Drops scratch databases whose owner's session is gone (their lock is free). */
async function dropLeftovers(sql: Parameters<typeof tryAdvisoryLock>[0], mine: string): Promise<string[]> {
  const dropped: string[] = [];
  for (const db of await databasesMatching(sql, PATTERN)) {
    const base = db.slice(0, PREFIX.length + 12);
    if (base === mine) continue;
    if (!(await tryAdvisoryLock(sql, lockName(base)))) continue;
    try {
      await dropDatabaseIfExists(sql, db);
      dropped.push(db);
    } finally {
      await advisoryUnlock(sql, lockName(base));
    }
  }
  return dropped;
}
