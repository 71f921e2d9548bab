/**
 * What a store runs its SQL on: a pool, or a transaction from `transaction(...)`.
 */
import type { PostgresType, Sql, TransactionSql } from 'postgres';
import type { Queryable } from '../types/sql.js';

export type { Queryable, Tx } from '../types/sql.js';

/**
 * Runs `fn` atomically: in a new transaction on a pool, or in a savepoint when `sql` is
 * already a transaction (so stores compose inside `transaction(...)`).
 */
export async function atomic<T>(
  sql: Queryable,
  fn: (tx: TransactionSql<Record<string, PostgresType>>) => Promise<T>,
): Promise<T> {
  if ('savepoint' in sql && typeof sql.savepoint === 'function') {
    return (await sql.savepoint((tx) => fn(tx))) as T;
  }
  return (await (sql as Sql<Record<string, PostgresType>>).begin((tx) => fn(tx))) as T;
}
