/**
 * The SQL handles, as types every layer may name: a pool or a transaction (Queryable), and a
 * transaction (Tx). The store runs SQL on them; db/ routes reads with them.
 */
import type { PostgresType, Sql, TransactionSql } from 'postgres';

/** What a store runs its SQL on: a pool, or a transaction from `transaction(...)`. */
export type Queryable = Sql<Record<string, PostgresType>> | TransactionSql<Record<string, PostgresType>>;

/** A handle inside a transaction (what COPY and savepoints need); one kind of Queryable. */
export type Tx = TransactionSql<Record<string, PostgresType>>;
