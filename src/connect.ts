/**
 * The library's entry to the database: `connect(options)` resolves the connection exactly as
 * the CLI does, and returns every store plus `transaction(fn)` and `close()`.
 */
import { type Env, resolveConnection, type ServerConnection } from './db/config.js';
import { connectPool, type Db } from './db/pool.js';
import { mapHostsError } from './store/host-errors.js';
import { createStores, type Stores } from './store/index.js';

export interface ConnectOptions {
  /** A database URL; else DATABASE_URL, PG* variables, or the embedded server (as the CLI). */
  databaseUrl?: string;
  /** The environment to resolve from (default: process.env). */
  env?: Env;
  /** Pool size override. */
  max?: number;
  /** application_name reported to the server. */
  applicationName?: string;
}

export type Database = Stores & {
  /** The underlying postgres.js instance. */
  sql: Db;
  /** Where it is connected (password included: do not log it). */
  connection: ServerConnection;
  /** Runs `fn` with stores that share one transaction: all or nothing. */
  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T>;
  /** Closes the pool. */
  close(): Promise<void>;
};

/** Connects and builds the stores. */
export async function connect(options: ConnectOptions = {}): Promise<Database> {
  const target = resolveConnection({ databaseUrl: options.databaseUrl, env: options.env ?? process.env });
  const { sql, conn } = await connectPool(target, { max: options.max, applicationName: options.applicationName });
  return {
    ...createStores(sql),
    sql,
    connection: conn,
    transaction: async <T>(fn: (stores: Stores) => Promise<T>) => {
      try {
        return (await sql.begin((tx) => fn(createStores(tx)))) as T;
      } catch (error) {
        // Deferred constraints fail at COMMIT, outside every store's own mapping.
        throw mapHostsError(error, [], { entity: 'record' });
      }
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
