/**
 * One pool on one database of a server, shared by the steps of a command instead of a pool
 * (a connection: fork, authentication, catalog caches) per step. Opened on first use, closed
 * by end(); `run` maps a failure to connect like withAdminSql does.
 */
import type { ServerConnection } from './config.js';
import { connectionError, type Db, isConnectFailure, openPool, type PoolOptions } from './driver.js';

export interface SharedPool {
  /** Runs `fn` on the pool (opening it if needed). */
  run<T>(fn: (sql: Db) => Promise<T>): Promise<T>;
  /** Closes the pool (if it was opened); the next run opens a new one. */
  end(): Promise<void>;
}

/**
 * A one-connection pool on `database` (default `postgres`, for admin work), opened on first
 * use; `opened` is a pool on that database the caller already holds (end() closes it too).
 */
export function sharedPool(
  conn: ServerConnection,
  database = 'postgres',
  options: { opened?: Db | undefined; pool?: PoolOptions } = {},
): SharedPool {
  let sql: Promise<Db> | undefined = options.opened ? Promise.resolve(options.opened) : undefined;
  return {
    async run(fn) {
      sql ??= openPool(conn, { database, max: 1, ...options.pool });
      try {
        return await fn(await sql);
      } catch (error) {
        throw isConnectFailure(error) ? connectionError(error, conn, database) : error;
      }
    },
    async end() {
      const open = sql;
      sql = undefined;
      if (open) await (await open).end({ timeout: 5 }).catch(() => undefined);
    },
  };
}
