/**
 * A PostgreSQL session advisory lock held on a dedicated connection while some other work
 * (often another program, like dbmate) changes the database. If pgstore dies, the session
 * ends and the server frees the lock.
 */
import { ConflictError } from '../errors.js';
import type { ServerConnection } from './config.js';
import { openPool } from './pool.js';

export interface AdvisoryLock {
  release(): Promise<void>;
}

export interface AdvisoryLockOptions {
  /** What is locked, for messages ("the migration lock"). */
  purpose: string;
  /** Seconds to wait for another holder; 0 tries once. */
  timeoutSeconds: number;
  /** Called once if we have to wait. */
  onWait?: (holder: string) => void;
}

/** Takes the advisory lock `name` on `conn`'s database, waiting up to timeoutSeconds. */
export async function acquireAdvisoryLock(conn: ServerConnection, name: string, options: AdvisoryLockOptions): Promise<AdvisoryLock> {
  const sql = await openPool(conn, { max: 1, applicationName: `pgstore (${options.purpose})` });
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let told = false;
  try {
    for (;;) {
      const [row] = await sql<{ locked: boolean }[]>`select pg_try_advisory_lock(hashtextextended(${name}, 0)) as locked`;
      if (row?.locked) break;
      const holder = await describeHolder(sql, name);
      if (Date.now() >= deadline) {
        throw new ConflictError(`${options.purpose} on database '${conn.database}' is held by ${holder}`, {
          hint: `Wait for it to finish, raise --lock-timeout (now ${options.timeoutSeconds} s), or use --no-lock where a pooler cannot hold session locks.`,
        });
      }
      if (!told) {
        options.onWait?.(holder);
        told = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } catch (error) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    throw error;
  }
  return {
    async release() {
      try {
        await sql`select pg_advisory_unlock(hashtextextended(${name}, 0))`;
      } finally {
        await sql.end({ timeout: 5 }).catch(() => undefined);
      }
    },
  };
}

async function describeHolder(sql: Awaited<ReturnType<typeof openPool>>, name: string): Promise<string> {
  const [row] = await sql<{ pid: number; app: string; since: Date | null }[]>`
    select a.pid, coalesce(nullif(a.application_name, ''), '?') as app, a.backend_start as since
      from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'advisory' and l.granted
       and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(${name}, 0)
     limit 1`;
  return row ? `server process ${row.pid} (${row.app}) since ${row.since?.toISOString() ?? '?'}` : 'another session';
}
