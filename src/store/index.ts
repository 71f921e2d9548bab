/**
 * The typed data layer: one store per aggregate, all built on one postgres.js instance.
 * `createStores(tx)` inside `sql.begin(...)` gives stores that share a transaction.
 */
import type { Queryable } from './queryable.js';

/** Builds every store on `sql` (a pool or a transaction). */
export function createStores(sql: Queryable) {
  return {
    // Each store is added here as it lands: auth, tenancy and hosts.
  };
}

export type Stores = ReturnType<typeof createStores>;
export type { Queryable } from './queryable.js';
