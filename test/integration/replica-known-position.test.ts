/**
 * The gate is skipped only when its answer is known, per connection (src/db/replica-connection.ts),
 * against the real primary + streaming standby:
 * - a connection that proved R reads without a gate (skippedGates) while its reads need ≤ R;
 * - a read needing more than R (a later write's position) gates again, and falls back while
 *   replay is paused (a skip that ignored the target would read the stale replica);
 * - a proof without a measured staleness does not stand in for maxLagMs;
 * - a connection whose backend is terminated on the standby (pg_terminate_backend), or a standby
 *   that is stopped and started again, has its proof dropped: the next read gates again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEmbedded, stopEmbedded } from '../../src/db/embedded.js';
import { openReplicaPools, resolveReplicas } from '../../src/db/replica-config.js';
import { ReplicaRouter } from '../../src/db/replicas.js';
import { openPool } from '../../src/db/pool.js';
import { type StandbyPair, standbyPair, waitUntil } from '../helpers/standby.js';

let pair: StandbyPair;
const table = `known_position_${process.pid}`;
const appName = `known-position-${process.pid}`;

beforeAll(async () => {
  pair = await standbyPair();
  await pair.primary.unsafe(`create table if not exists public.${table} (id int primary key)`);
  await pair.waitForReplay();
});
afterAll(async () => {
  await pair?.primary.unsafe(`drop table if exists public.${table}`);
});

async function routerOn(standbyUrl: string, primary = pair.primary, max = 1) {
  const pools = await openReplicaPools(resolveReplicas(standbyUrl, {}, 'test'), {
    timeoutMs: 10_000,
    max,
    applicationName: appName,
  });
  return new ReplicaRouter(primary, pools, { timeoutMs: 10_000 });
}

const count = (id: number) => (sql: Parameters<Parameters<ReplicaRouter['read']>[0]>[0]) =>
  sql.unsafe<{ n: number }[]>(`select count(*)::int as n from public.${table} where id = ${id}`).then((r) => r[0]!.n);

describe('what a gate proved on a connection', () => {
  it('lets later reads on it skip the gate, but not a read needing a later write (the target counts)', async () => {
    const router = await routerOn(pair.standbyUrl);
    try {
      await router.read(count(0)); // a first gate: this connection's replayed position is known
      const proved = router.stats();
      expect(proved.gates).toBe(1);
      await router.read(count(0));
      await router.read(count(0));
      expect(router.stats()).toMatchObject({ gates: 1, skippedGates: 2, replicaReads: 3 });

      const id = 1_000 + Math.floor(Math.random() * 1_000_000);
      let written = '';
      await pair.withReplayPaused(async () => {
        await pair.primary.unsafe(`insert into public.${table} values (${id})`);
        const [row] = await pair.primary<{ lsn: string }[]>`select pg_current_wal_insert_lsn()::text as lsn`;
        written = row!.lsn;
        // The write is past what the connection proved: the gate runs, says behind, the primary answers.
        expect(await router.read(count(id), { after: row!.lsn })).toBe(1);
        const after = router.stats();
        expect(after.gates).toBe(2);
        expect(after.skippedGates).toBe(2);
        expect(after.fallbacks.behind).toBe(1);
      });
      // The write's own position (other files write to the shared primary meanwhile: a later
      // position could be past what the standby has replayed when the read comes).
      await pair.waitForReplay();
      expect(await router.read(count(id), { after: written })).toBe(1); // replayed: a gate proves it
      expect(await router.read(count(id), { after: written })).toBe(1); // ...and is remembered
      expect(router.stats()).toMatchObject({ gates: 3, skippedGates: 3 });
    } finally {
      await router.close();
    }
  });

  it('a proof without a measured staleness does not answer for maxLagMs; a measured one does, while it holds', async () => {
    await pair.waitForReplay();
    const router = await routerOn(pair.standbyUrl);
    try {
      await router.read(count(0)); // proves the position only
      await router.read(count(0), { maxLagMs: 60_000 }); // must measure: a gate
      expect(router.stats()).toMatchObject({ gates: 2, skippedGates: 0 });
      await router.read(count(0), { maxLagMs: 60_000 }); // measured just now: skipped
      expect(router.stats()).toMatchObject({ gates: 2, skippedGates: 1 });
      await new Promise((r) => setTimeout(r, 120));
      await router.read(count(0), { maxLagMs: 100 }); // lag + 120 ms passes 100 ms: a gate again
      expect(router.stats().gates).toBe(3);
    } finally {
      await router.close();
    }
  });

  it('is dropped when the connection is terminated on the standby: the next read gates again', async () => {
    await pair.waitForReplay();
    const router = await routerOn(pair.standbyUrl);
    try {
      await router.read(count(0));
      await router.read(count(0));
      expect(router.stats()).toMatchObject({ gates: 1, skippedGates: 1 });
      // (The filter first: in one WHERE, pg_terminate_backend may run on every row.)
      const killed = await pair.standby<{ done: boolean }[]>`
        select pg_terminate_backend(pid) as done
        from (select pid from pg_stat_activity where application_name = ${appName} offset 0) mine`;
      expect(killed).toEqual([{ done: true }]);
      await waitUntil('the backend to go', 10_000, async () => {
        const [row] = await pair.standby<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity where application_name = ${appName}`;
        return row!.n === 0;
      });
      // The client sees the close a moment later (the socket's FIN).
      await waitUntil(
        'the driver to see the close',
        5_000,
        async () => (router.stats().replicas[0]?.closes ?? 0) > 0,
      ).catch(() => undefined);
      expect(await router.read(count(0))).toBe(0);
      const after = router.stats();
      expect(after.gates).toBe(2); // a new backend: proved again, not assumed
      expect(after.skippedGates).toBe(1);
      expect(after.replicas[0]!.closes).toBe(1);
    } finally {
      await router.close();
    }
  });
});

describe('a standby stopped and started again', () => {
  it('the proofs of its connections are dropped: the first read after the restart gates again', async () => {
    // A standby of this file's own (the shared one serves the other files meanwhile).
    const own = await pair.ownStandby();
    const router = await routerOn(own.url, pair.primary, 2);
    try {
      const one = () => router.read((sql) => sql`select 1 as one`);
      await one();
      await one();
      expect(router.stats()).toMatchObject({ gates: 1, skippedGates: 1 });
      await stopEmbedded(own.target);
      await ensureEmbedded(own.target, { stopWhenProcessDies: process.pid });
      const standby = await openPool(
        { ...resolveReplicas(own.url, {}, 'test')[0]! },
        { max: 1, applicationName: `${appName}-probe` },
      );
      try {
        await waitUntil('the restarted standby to accept reads', 30_000, () =>
          standby`select 1`.then(
            () => true,
            () => false,
          ),
        );
      } finally {
        await standby.end({ timeout: 5 });
      }
      await waitUntil(
        'the driver to see the close',
        5_000,
        async () => (router.stats().replicas[0]?.closes ?? 0) > 0,
      ).catch(() => undefined);
      await one();
      const after = router.stats();
      expect(after.gates).toBe(2);
      expect(after.skippedGates).toBe(1);
      expect(after.replicaReads).toBe(3);
      expect(after.replicas[0]!.closes).toBeGreaterThanOrEqual(1);
    } finally {
      await router.close();
      await own.stop();
    }
  }, 120_000);
});
