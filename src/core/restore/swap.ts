/**
 * What a restore does to its target: the restore lock (one restore of a database at a time),
 * the other sessions on it, the question before --clean, and the swap that puts the restored
 * copy in its place.
 */
import { acquireAdvisoryLock } from '../../db/advisory-lock.js';
import { describeTarget, type ServerConnection } from '../../db/config.js';
import { type Db, type SharedPool, withAdminSql } from '../../db/pool.js';
import { ConflictError } from '../../errors.js';
import * as admin from '../../store/admin/index.js';
import {
  databaseIsEmpty,
  databaseNames,
  dropDatabaseForce,
  getEnvironment,
  setAllowConnections,
  swapDatabases,
} from '../../store/admin/index.js';
import { critical } from '../../util/critical.js';
import { type Confirm, guardProduction } from '../options.js';
import { isScratchOf, scratchName, scratchPurpose } from './scratch-names.js';
import { plural } from '../../util/format.js';

/**
 * Databases left by interrupted restores of a database: scratch copies (dropped), and the
 * content it had before a swap whose clean-up was cut short (kept, to drop by hand).
 */
export interface Leftovers {
  dropped: string[];
  kept: string[];
}

/** What --clean's question needs from the restore's options. */
export interface ReplaceOptions {
  force?: boolean | undefined;
  forceProduction?: boolean | undefined;
  confirm?: Confirm | undefined;
}

/**
 * Runs `fn` holding the restore lock of `database` (a session advisory lock on the server, so
 * two restores of one database never overlap: the second exits 3). Under it, databases that
 * interrupted restores of `database` left behind are found: scratch copies are dropped (the
 * backup they came from is still there); a pre-swap original is kept and reported.
 *
 * `fn` gets the lock's session (`postgres` database, one connection) for the restore's admin
 * work too: one connection instead of one per step. That is safe because the restore's admin
 * statements run one after another and none changes the session (no SET, no transaction left
 * open), and nothing else shares it; the lock is released only after `fn` ends.
 */
export async function withRestoreLock<T>(
  conn: ServerConnection,
  database: string,
  fn: (leftovers: Leftovers, admin: Db) => Promise<T>,
): Promise<T> {
  return withAdminSql(
    conn,
    async (s) => {
      const lock = await acquireAdvisoryLock(s, database, `pgstore:restore:${database}`, {
        purpose: 'the restore lock',
        timeoutSeconds: 0,
        hint: 'Another restore of this database is running: wait for it to finish.',
      });
      try {
        const found = (await databaseNames(s)).filter((name) => isScratchOf(name, database));
        const dropped = found.filter((name) => scratchPurpose(name) === 'restore');
        for (const name of dropped) await dropDatabaseForce(s, name);
        return await fn({ dropped, kept: found.filter((name) => !dropped.includes(name)) }, s);
      } finally {
        // A failed unlock (the server went away: the lock went with the session) must not hide
        // the restore's own result or error.
        await lock.release().catch(() => undefined);
      }
      // closeIdle false: the lock's connection waits idle through the whole load.
    },
    'postgres',
    { closeIdle: false },
  );
}

/**
 * Shows what --clean will do, refuses production (without --force-production) and asks.
 * `adminSql`: a session on the server's `postgres` database; `target`: a pool on `database`
 * (closed here).
 */
export async function planReplace(
  conn: ServerConnection,
  adminSql: Db,
  target: SharedPool,
  database: string,
  from: string,
  options: ReplaceOptions,
): Promise<void> {
  const there = { ...conn, database };
  const environment = await target.run((sql) => getEnvironment(sql));
  // Closed before the sessions are listed, else it would be one of them.
  await target.end();
  const sessions = await admin.otherSessions(adminSql, database);
  const plan = {
    action: `replace every object and row in database ${database} with ${from}`,
    target: describeTarget(there),
    environment,
    details: sessions.map((s) => `connected: pid ${s.pid} ${s.user} ${s.application || '?'} ${s.client ?? 'local'}`),
  };
  guardProduction(plan, options.forceProduction);
  if (sessions.length && !options.force) throw sessionsConflict(database, sessions);
  await options.confirm?.(plan);
}

function sessionsConflict(database: string, sessions: admin.SessionInfo[]): ConflictError {
  return new ConflictError(
    `${plural(sessions.length, 'other session')} ${sessions.length === 1 ? 'is' : 'are'} connected to ${database}: ${sessions.map((s) => `pid ${s.pid} (${s.user}, ${s.application || '?'})`).join(', ')}`,
    {
      hint: 'Close them, or pass --force to terminate them when the restored copy is swapped in.',
    },
  );
}

/** An empty target is replaced by a swap too, which needs it to have no other sessions (or --force). */
export async function refuseOtherSessions(adminSql: Db, database: string): Promise<void> {
  const sessions = await admin.otherSessions(adminSql, database);
  if (sessions.length) throw sessionsConflict(database, sessions);
}

/**
 * Two renames in one transaction put the restored copy in the target's place; the old one is
 * dropped. `wasEmpty` (a restore into an empty database, which nobody agreed to replace): the
 * target must still be empty at the swap (else a ConflictError, nothing changed), and if
 * something reached it in the instant before the renames, it is kept, not dropped (returned).
 * `adminSql` (a session on `postgres`) does the swap; the emptiness checks connect to the
 * databases themselves, each closed before the renames (a session on a database blocks them).
 */
export async function swapIn(
  conn: ServerConnection,
  adminSql: Db,
  database: string,
  scratch: string,
  force: boolean,
  wasEmpty: boolean,
): Promise<string | undefined> {
  const aside = scratchName(database, 'old');
  const stillEmpty = (name: string) => withAdminSql(conn, (s) => databaseIsEmpty(s), name);
  if (wasEmpty && !(await stillEmpty(database))) {
    throw new ConflictError(
      `database ${database} was empty when the restore started, and objects were created in it since; it was left alone`,
      {
        hint: 'Stop what writes to it, or restore with --clean to replace its contents (it asks first).',
      },
    );
  }
  // Critical: a stop signal between disallowing connections and the swap would leave the
  // target unreachable; the CLI waits for this to end before it exits.
  return critical(async () => {
    if (force) {
      await setAllowConnections(adminSql, database, false);
      await admin.terminateSessions(adminSql, database);
    }
    try {
      await swapDatabases(adminSql, database, scratch, aside);
    } catch (error) {
      if (force) await setAllowConnections(adminSql, database, true).catch(() => undefined);
      const code = (error as { code?: string }).code;
      if (code === '55006') {
        throw new ConflictError(
          `database ${database} is in use, so the restored copy could not be swapped in; ${database} is unchanged`,
          {
            hint: 'Close the other sessions, or pass --force to terminate them.',
            cause: error,
          },
        );
      }
      throw error;
    }
    if (wasEmpty) {
      if (force) await setAllowConnections(adminSql, aside, true);
      if (!(await stillEmpty(aside))) return aside;
    }
    await dropDatabaseForce(adminSql, aside);
    return undefined;
  });
}
