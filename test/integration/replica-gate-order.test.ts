/**
 * Why the read-your-writes check is a statement of its own, sent before the read (and not a
 * condition folded into the read's statement), against the real primary + streaming standby.
 *
 * A statement's snapshot is taken when it starts (Bind), before any of its expressions run:
 * a `pg_last_wal_replay_lsn() >= $lsn` inside the read is evaluated after the snapshot, so
 * replay can pass the position in between and the check passes on rows that miss the write.
 * The window is microseconds in practice; here the statement waits before the check (a function
 * sleeping in 10 ms steps until replay has passed the write, bounded), and replay is resumed once
 * that wait runs, so after the statement's snapshot was taken. The router's gate runs as the statement before the
 * read on the same connection, so the read's snapshot is taken after the gate saw the position.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReplicaPools, resolveReplicas } from '../../src/db/replica-config.js';
import { ReplicaRouter } from '../../src/db/replicas.js';
import { type StandbyPair, standbyPair, waitUntil } from '../helpers/standby.js';

let pair: StandbyPair;
const table = `gate_order_${process.pid}`;
const waitReplay = `gate_order_wait_${process.pid}`;

beforeAll(async () => {
  pair = await standbyPair();
  await pair.primary.unsafe(`create table if not exists public.${table} (id int primary key)`);
  // Sleeps until this server has replayed `lsn` (at most 10 s), at once on a primary (no replay).
  await pair.primary.unsafe(`
    create or replace function public.${waitReplay}(lsn pg_lsn) returns text language plpgsql as $$
    begin
      for i in 1..1000 loop
        exit when pg_last_wal_replay_lsn() is null or pg_last_wal_replay_lsn() >= lsn;
        perform pg_sleep(0.01);
      end loop;
      return 'waited';
    end $$`);
  await pair.waitForReplay();
});
afterAll(async () => {
  await pair?.primary.unsafe(`drop table if exists public.${table}`);
  await pair?.primary.unsafe(`drop function if exists public.${waitReplay}(pg_lsn)`);
});

/**
 * Writes a row while replay is paused, runs `read` and resumes replay once the read waits on the
 * standby in SLOW_COUNT (sleeping inside the function: its statement runs, its snapshot is taken).
 */
async function readAcrossResume<T>(id: number, read: (lsn: string) => Promise<T>): Promise<T> {
  return pair.withReplayPaused(async () => {
    await pair.primary.unsafe(`insert into public.${table} values (${id})`);
    const [row] = await pair.primary<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
    const resume = async () => {
      await waitUntil('the read to wait on the standby', 10_000, async () => {
        const [waiting] = await pair.standby<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where pid <> pg_backend_pid() and wait_event = 'PgSleep' and query like ${`%${waitReplay}%`}`;
        return waiting!.n > 0;
      });
      await pair.resumeReplay();
      await pair.waitForReplay();
    };
    const [result] = await Promise.all([read(row!.lsn), resume()]);
    return result;
  });
}

/** Waits until `lsn` is replayed, then counts the row: its snapshot was taken before the wait. */
const SLOW_COUNT = (id: number, lsn: string) =>
  `select public.${waitReplay}('${lsn}') as slept, (select count(*) from public.${table} where id = ${id})::int as n`;

describe('the read-your-writes check and the read snapshot', () => {
  it('a check folded into the read passes on a snapshot that misses the write (why the gate is separate)', async () => {
    const id = 1_000 + Math.floor(Math.random() * 1_000_000);
    const row = await readAcrossResume(id, async (lsn) => {
      // The check is evaluated after the wait, the snapshot before it.
      const [r] = await pair.standby.unsafe<{ ok: boolean; n: number }[]>(
        `select s.slept, pg_last_wal_replay_lsn() >= $1::pg_lsn as ok, s.n from (${SLOW_COUNT(id, lsn)} offset 0) s`,
        [lsn],
      );
      return r!;
    });
    expect(row.ok).toBe(true); // the folded check says "replayed"...
    expect(row.n).toBe(0); // ...and the statement's rows do not have the write
  });

  it("the router's gate runs before the read's snapshot: the read sees the write (here from the primary)", async () => {
    const id = 2_000_000 + Math.floor(Math.random() * 1_000_000);
    const pools = await openReplicaPools(resolveReplicas(pair.standbyUrl, {}, 'test'), { timeoutMs: 10_000, max: 2 });
    const router = new ReplicaRouter(pair.primary, pools, { timeoutMs: 10_000 });
    try {
      await router.read((sql) => sql`select 1`); // a first gate: the replica's position is known
      const n = await readAcrossResume(id, async (lsn) => {
        const [r] = await router.read((sql) => sql.unsafe<{ n: number }[]>(SLOW_COUNT(id, lsn)), { after: lsn });
        return r!.n;
      });
      expect(n).toBe(1);
      expect(router.stats().fallbacks.behind).toBe(1);
    } finally {
      await router.close();
    }
  });
});
