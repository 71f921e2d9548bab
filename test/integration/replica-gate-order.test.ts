/**
 * Why the read-your-writes check is a statement of its own, sent before the read (and not a
 * condition folded into the read's statement), against the real primary + streaming standby.
 *
 * A statement's snapshot is taken when it starts (Bind), before any of its expressions run:
 * a `pg_last_wal_replay_lsn() >= $lsn` inside the read is evaluated after the snapshot, so
 * replay can pass the position in between and the check passes on rows that miss the write.
 * The window is microseconds in practice; here a pg_sleep before the check widens it to a
 * second, and replay is resumed inside it. The router's gate runs as the statement before the
 * read on the same connection, so the read's snapshot is taken after the gate saw the position.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openReplicaPools, resolveReplicas } from '../../src/db/replica-config.js';
import { ReplicaRouter } from '../../src/db/replicas.js';
import { type StandbyPair, standbyPair } from '../helpers/standby.js';

let pair: StandbyPair;
const table = `gate_order_${process.pid}`;

beforeAll(async () => {
  pair = await standbyPair();
  await pair.primary.unsafe(`create table if not exists public.${table} (id int primary key)`);
  await pair.waitForReplay();
});
afterAll(async () => {
  await pair?.primary.unsafe(`drop table if exists public.${table}`);
});

/** Writes a row while replay is paused, runs `read` with replay resumed 300 ms into it. */
async function readAcrossResume<T>(id: number, read: (lsn: string) => Promise<T>): Promise<T> {
  return pair.withReplayPaused(async () => {
    await pair.primary.unsafe(`insert into public.${table} values (${id})`);
    const [row] = await pair.primary<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
    const resumed = new Promise<void>((resolve, reject) =>
      setTimeout(
        () =>
          pair
            .resumeReplay()
            .then(() => pair.waitForReplay())
            .then(resolve, reject),
        300,
      ),
    );
    const [result] = await Promise.all([read(row!.lsn), resumed]);
    return result;
  });
}

/** Sleeps one second, then counts the row: its snapshot was taken before the sleep. */
const SLOW_COUNT = (id: number) =>
  `select pg_sleep(1)::text as slept, (select count(*) from public.${table} where id = ${id})::int as n`;

describe('the read-your-writes check and the read snapshot', () => {
  it('a check folded into the read passes on a snapshot that misses the write (why the gate is separate)', async () => {
    const id = 1_000 + Math.floor(Math.random() * 1_000_000);
    const row = await readAcrossResume(id, async (lsn) => {
      // The check is evaluated after the sleep, the snapshot before it.
      const [r] = await pair.standby.unsafe<{ ok: boolean; n: number }[]>(
        `select s.slept, pg_last_wal_replay_lsn() >= $1::pg_lsn as ok, s.n from (${SLOW_COUNT(id)} offset 0) s`,
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
        const [r] = await router.read((sql) => sql.unsafe<{ n: number }[]>(SLOW_COUNT(id)), { after: lsn });
        return r!.n;
      });
      expect(n).toBe(1);
      expect(router.stats().fallbacks.behind).toBe(1);
    } finally {
      await router.close();
    }
  });
});
