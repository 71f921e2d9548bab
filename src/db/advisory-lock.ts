/**
 * A PostgreSQL session advisory lock, held on a one-connection pool while some other work
 * (often another program, like dbmate) changes the database. If pgstore dies, the session
 * ends and the server frees the lock.
 */
import { ConflictError } from '../errors.js';
import { sqlLiteral } from './literal.js';
import type { Db } from './pool.js';

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
  /** The hint when the lock stays taken (default: about --lock-timeout and --no-lock). */
  hint?: string;
  /** The answer of a first try already made on this session (pipelined with other work). */
  firstTry?: boolean | undefined;
}

/**
 * Takes the advisory lock `name` on `sql`, which must be a one-connection pool (the lock
 * belongs to that session), waiting up to timeoutSeconds for another holder.
 */
export async function acquireAdvisoryLock(
  sql: Db,
  database: string,
  name: string,
  options: AdvisoryLockOptions,
): Promise<AdvisoryLock> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let told = false;
  let tried = options.firstTry;
  for (;;) {
    // Inline, not a parameter: one round trip, and a query sent behind it is pipelined (literal.ts).
    const locked =
      tried ??
      (
        await sql.unsafe<{ locked: boolean }[]>(
          `select pg_try_advisory_lock(hashtextextended(${sqlLiteral(name)}, 0)) as locked`,
        )
      )[0]?.locked;
    tried = undefined;
    if (locked) break;
    const holder = await describeHolder(sql, name);
    if (Date.now() >= deadline) {
      throw new ConflictError(`${options.purpose} on database '${database}' is held by ${holder}`, {
        hint:
          options.hint ??
          `Wait for it to finish, raise --lock-timeout (now ${options.timeoutSeconds} s), or use --no-lock where a pooler cannot hold session locks.`,
      });
    }
    if (!told) {
      options.onWait?.(holder);
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    async release() {
      await sql.unsafe(`select pg_advisory_unlock(hashtextextended(${sqlLiteral(name)}, 0))`);
    },
  };
}

async function describeHolder(sql: Db, name: string): Promise<string> {
  const [row] = await sql<{ pid: number; app: string; since: Date | null }[]>`
    select a.pid, coalesce(nullif(a.application_name, ''), '?') as app, a.backend_start as since
      from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'advisory' and l.granted
       and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(${name}, 0)
     limit 1`;
  // A session of another role shows no start time (nor name) without pg_read_all_stats: left out.
  return row
    ? `server process ${row.pid} (${row.app})${row.since ? ` since ${row.since.toISOString()}` : ''}`
    : 'another session';
}
