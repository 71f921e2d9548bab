/**
 * endPromptly (db/pool.ts), how `migrate up` ends its session: it resolves without waiting for
 * the server to close its end, but the Terminate has gone out: the session's backend ends (its
 * session locks with it), and the server logs no connection lost.
 */
import { describe, expect, it } from 'vitest';
import type { ServerConnection } from '../../src/db/config.js';
import { endPromptly, openPool } from '../../src/db/pool.js';
import { useTestDatabase } from '../helpers/db.js';
import { startRoundTripProxy } from '../helpers/round-trip-proxy.js';

const db = useTestDatabase();

async function backendGone(pid: number, ms = 3_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where pid = ${pid}`;
    if (row!.n === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

describe('endPromptly', () => {
  it('ends the session: its backend goes, and a session lock it held is free', async () => {
    const sql = await openPool(db.conn, { max: 1, fetchTypes: false, closeIdle: false });
    const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid, pg_advisory_lock(4242)`;
    await endPromptly(sql);
    expect(await backendGone(row!.pid)).toBe(true);
    const [lock] = await db.sql<{ got: boolean }[]>`select pg_try_advisory_lock(4242) as got`;
    expect(lock!.got).toBe(true);
    await db.sql`select pg_advisory_unlock(4242)`;
  });

  it('resolves a turn of the event loop later, not when the server has closed or a timer fired', async () => {
    // Behind a proxy that holds the server's answers (and its close) for 50 ms: only the
    // driver's timeout timer (>= 1 ms) or this function's own turn can end the wait.
    const proxy = await startRoundTripProxy(db.conn, 50);
    const sql = await openPool({ ...db.conn, host: '127.0.0.1', port: proxy.port } as ServerConnection, {
      max: 1,
      fetchTypes: false,
      closeIdle: false,
    });
    try {
      await sql`select 1`;
      let settled = false;
      const ending = endPromptly(sql).then(() => {
        settled = true;
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).toBe(true);
      await ending;
      // The Terminate went out all the same.
      const until = Date.now() + 2_000;
      while (proxy.trips.at(-1)?.type !== 'X' && Date.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 5));
      expect(proxy.trips.at(-1)?.type).toBe('X');
    } finally {
      await proxy.close();
    }
  });
});
