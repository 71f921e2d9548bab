/**
 * How the hosts and snapshot operations reach the database: one small pool per operation,
 * the three hosts stores on it, and transactions whose COMMIT errors (deferred constraints)
 * are mapped like any other.
 */
import { userInfo } from 'node:os';
import { connectPool, type Db, withPool } from '../../db/pool.js';
import type { ServerConnection } from '../../db/config.js';
import { guardHosts } from '../../store/hosts/index.js';
import { createHostEventsStore } from '../../store/hosts/index.js';
import { createHostsStore } from '../../store/hosts/index.js';
import type { Queryable, Tx } from '../../store/queryable.js';
import { createSnapshotsStore } from '../../store/hosts/index.js';
import type { CoreOptions, LocalOptions } from '../options.js';

export type { Tx } from '../../store/queryable.js';

/** The three hosts stores on one connection or transaction. */
export function hostStores(sql: Queryable) {
  return { hostEvents: createHostEventsStore(sql), hosts: createHostsStore(sql), snapshots: createSnapshotsStore(sql) };
}
export type HostStores = ReturnType<typeof hostStores>;

export interface HostsDb {
  sql: Db;
  conn: ServerConnection;
  stores: HostStores;
}

/** Connects to the target (the caller ends `sql`): for reads that outlive one call, a cursor's pages. */
export async function openHostsDb(options: CoreOptions): Promise<HostsDb> {
  const { sql, conn } = await connectPool(options.target, { max: 1, log: options.log });
  return { sql, conn, stores: hostStores(sql) };
}

/** Connects to the target, runs `fn`, closes. */
export async function withHostsDb<T>(options: CoreOptions, fn: (db: HostsDb) => Promise<T>): Promise<T> {
  // One connection is all an operation uses.
  return withPool(options.target, { max: 1, log: options.log }, (sql, conn) =>
    fn({ sql, conn, stores: hostStores(sql) }),
  );
}

/** Runs `fn` in one transaction; errors, COMMIT's included, come out mapped. */
export async function inTransaction<T>(
  sql: Db,
  fn: (stores: HostStores, tx: Tx) => Promise<T>,
  options = '',
): Promise<T> {
  return guardHosts(() => sql.begin(options, (tx) => fn(hostStores(tx), tx)) as Promise<T>);
}

/** Thrown inside a transaction to roll it back on purpose (dry runs, refused imports). */
export class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super('rollback');
  }
}

/** Like inTransaction, but a thrown Rollback rolls back and returns its value. */
export async function inTransactionOrRollback<T>(sql: Db, fn: (stores: HostStores, tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await inTransaction(sql, fn);
  } catch (error) {
    if (error instanceof Rollback) return error.value as T;
    throw error;
  }
}

/** Who made a change: the OS user running pgstore, when known. */
export function actorOf(options: LocalOptions): string | null {
  const named = options.env.USER || options.env.USERNAME || options.env.LOGNAME;
  if (named) return named;
  try {
    // No USER in the environment (cron, containers): the account itself.
    return userInfo().username || null;
  } catch {
    return null;
  }
}
