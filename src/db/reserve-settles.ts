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
 * This turns it on for exactly the connections opened while a reserve() is waiting: the driver
 * reads `options.fetch_types` each time a connection is made (connected(): `needsTypes =
 * options.fetch_types`), and `sql.options` is that very object. Every other connection still
 * skips it; the built-in array types installed on the pool win over the lookup's (addArrayType
 * keeps a parser and a serializer already there). test/integration/connect.test.ts and
 * reserve-settles.test.ts hold the driver to this: a cold reserve() that hangs fails them.
 */
import type { Sql } from 'postgres';

// biome-ignore lint/suspicious/noExplicitAny: any pool, whatever its custom types
type AnySql = Sql<any>;

export function reserveSettles(sql: AnySql): void {
  let waiting = 0;
  Object.defineProperty(sql.options, 'fetch_types', {
    configurable: true,
    enumerable: true,
    get: () => waiting > 0,
  });
  const reserve = sql.reserve;
  sql.reserve = async () => {
    waiting++;
    try {
      return await reserve();
    } finally {
      waiting--;
    }
  };
}
