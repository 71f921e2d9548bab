/**
 * reserve() on pgstore's pools, which skip the driver's array-type lookup (src/db/reserve-settles.ts):
 * postgres.js 3.4.9 never settles a reserve() that has to open a connection on such a pool
 * (porsager/postgres#751). Each reserve here must settle within a deadline, on a cold pool, on
 * a pool whose connection the server ended, many at once, and beside a query while another
 * connection took it; the lookup runs only on connections made from a pool's first reserve() on.
 */
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { installBuiltinArrayTypes } from '../../src/db/array-types.js';
import { type Db, driverOptions, openPool, type PoolOptions } from '../../src/db/driver.js';
import { reserveSettles } from '../../src/db/reserve-settles.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();

function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Runs `fn` with a new pool as openPool makes it (no connection yet), then ends the pool. */
async function withNewPool(options: PoolOptions, fn: (sql: Db) => Promise<void>): Promise<void> {
  const sql = await openPool(db.conn, options);
  try {
    await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const LOOKUP = /from pg_catalog\.pg_type a\s+left join pg_catalog\.pg_type b/;

/** A pool as openPool makes it, counting the driver's lookups (its `debug` hook sees every query). */
function countingPool(max: number): { sql: Db; lookups: () => number } {
  let lookups = 0;
  const sql = postgres({
    ...driverOptions(db.conn, { max }),
    debug: (_connection: number, query: string) => {
      if (LOOKUP.test(query)) lookups++;
    },
  });
  installBuiltinArrayTypes(sql);
  reserveSettles(sql);
  return { sql, lookups: () => lookups };
}

describe('reserve() on a pool without the array-type lookup', () => {
  it('settles on a cold pool, and again when it has to open a second connection', async () => {
    await withNewPool({ max: 2 }, async (sql) => {
      const first = await within(sql.reserve(), 'the first reserve()');
      const second = await within(sql.reserve(), 'a second reserve()');
      const [a] = await first<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const [b] = await second<{ pid: number }[]>`select pg_backend_pid() as pid`;
      expect(a!.pid).not.toBe(b!.pid);
      first.release();
      second.release();
      // Released connections serve the pool's queries, and a third reserve() reuses one.
      const third = await within(sql.reserve(), 'a reserve() after release');
      const [row] = await third<{ one: number }[]>`select 1 as one`;
      expect(row!.one).toBe(1);
      third.release();
    });
  });

  it('settles when the server ended the connection the pool had', async () => {
    let closed = 0;
    await withNewPool({ max: 1, onclose: () => closed++ }, async (sql) => {
      const [own] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
      const pid = own!.pid;
      await db.sql`select pg_terminate_backend(${pid})`;
      // Once the driver has seen the close, the reserve() has to open a new connection.
      for (let i = 0; i < 250 && closed === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(closed).toBe(1);
      const reserved = await within(sql.reserve(), 'reserve() after the server closed the connection');
      const [row] = await reserved<{ pid: number }[]>`select pg_backend_pid() as pid`;
      expect(row!.pid).not.toBe(pid);
      reserved.release();
    });
  });

  it('settles for 20 rounds of 6 concurrent reserves on pools of 3, queries racing them', async () => {
    for (let round = 0; round < 20; round++) {
      await withNewPool({ max: 3 }, async (sql) => {
        const work = Array.from({ length: 6 }, async (_, i) => {
          if (i % 2 === 1) return (await sql`select ${i}::int as i`)[0]!.i as number;
          const reserved = await within(sql.reserve(), `round ${round}: reserve() ${i}`);
          try {
            const [row] = await reserved<{ i: number }[]>`select ${i}::int as i`;
            return row!.i;
          } finally {
            reserved.release();
          }
        });
        expect(await within(Promise.all(work), `round ${round}`)).toEqual([0, 1, 2, 3, 4, 5]);
      });
    }
  });

  it('a query while a reserve is held settles, when another connection took the reserve first (20 rounds)', async () => {
    // The review's sequence: a connection busy, a reserve() that opens a second one, the busy one
    // frees first and takes the reserve; the second must still become usable (with the lookup
    // only while a reserve waited, it was left with the reserve as its first query, stuck).
    for (let round = 0; round < 20; round++) {
      await withNewPool({ max: 2 }, async (sql) => {
        await sql`select 1`;
        const busy = sql`select pg_sleep(0.001)`.execute();
        await new Promise((r) => setTimeout(r, 0));
        const reserved = await within(sql.reserve(), `round ${round}: reserve()`);
        await busy;
        try {
          const [row] = await within(sql<{ n: number }[]>`select 2 as n`, `round ${round}: a query beside the reserve`);
          expect(row!.n).toBe(2);
        } finally {
          reserved.release();
        }
      });
    }
  });

  it('looks the types up only on connections made from the first reserve() on', async () => {
    const { sql, lookups } = countingPool(3);
    try {
      await Promise.all([sql`select 1`, sql`select 2`, sql`select 3`, sql`select pg_sleep(0.05)`]);
      expect(lookups()).toBe(0);
      expect(sql.options.fetch_types).toBe(false);
      const reserved = await within(sql.reserve(), 'reserve()');
      reserved.release();
      // The open connections were idle: the reserve took one of them, nothing was looked up.
      expect(lookups()).toBe(0);
      expect(sql.options.fetch_types).toBe(true);
      await sql.end({ timeout: 5 });
      const cold = countingPool(1);
      const first = await within(cold.sql.reserve(), 'reserve() on a cold pool');
      expect(cold.lookups()).toBe(1);
      // Arrays still come back and bind as the static table says.
      const [row] = await first<{ a: number[] }[]>`select ${[1, 2]}::int4[] as a`;
      expect(row!.a).toEqual([1, 2]);
      first.release();
      await cold.sql.end({ timeout: 5 });
    } finally {
      await sql.end({ timeout: 5 }).catch(() => undefined);
    }
  });
});
