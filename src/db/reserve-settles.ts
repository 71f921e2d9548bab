/**
 * `sql.reserve()` that settles on a pool without the driver's array-type lookup.
 *
 * postgres.js 3.4.9 with `fetch_types: false`: a reserve() that has to open a connection never
 * settles. The connection is opened with the reserve request as its first ("initial") query,
 * and when the server reports ready the driver runs an initial query only if it is not a
 * reserve, then forgets it (src/connection.js, ReadyForQuery; upstream
 * https://github.com/porsager/postgres/issues/751 and /issues/1219, fix proposed in #1220).
 * With the lookup on, the lookup's own query completes first and the ready connection is then
 * handed to the waiting reserve (onopen), so the bug does not show.
 *
 * pgstore's pools skip the lookup (array-types.ts says why: 3-4.5 ms of CPU per connection).
 * This turns it on for every connection a pool opens from its first reserve() on: the driver
 * reads `options.fetch_types` each time a connection is made (connected(): `needsTypes =
 * options.fetch_types`), and `sql.options` is that very object. Not only while a reserve()
 * waits: the driver reads the flag once the socket is up, and by then another connection may
 * have freed and taken the reserve, leaving the new one with a reserve as its first query and
 * the flag off, stuck for good (found by review: a pool of 2, a busy connection, a reserve(),
 * then a query while the reserve was held hung 1 run in 5). Pools that never reserve() (most
 * of the CLI's) skip the lookup for good. The built-in array types
 * installed on the pool win over the lookup's (addArrayType keeps a parser and a serializer
 * already there); other array types (an enum's, say) are parsed from then on. test/integration
 * reserve-settles.test.ts holds the driver to this: a reserve() or a query that hangs fails it.
 */
import type { Sql } from 'postgres';

// biome-ignore lint/suspicious/noExplicitAny: any pool, whatever its custom types
type AnySql = Sql<any>;

export function reserveSettles(sql: AnySql): void {
  let reserved = false;
  Object.defineProperty(sql.options, 'fetch_types', {
    configurable: true,
    enumerable: true,
    get: () => reserved,
  });
  const reserve = sql.reserve;
  sql.reserve = () => {
    reserved = true;
    return reserve();
  };
}
