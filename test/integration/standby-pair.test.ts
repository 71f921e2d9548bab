/**
 * The test pair itself (test/helpers/standby.ts): a write on the primary is replayed on the
 * standby; a paused standby does not replay until resumed; the standby is read-only.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type StandbyPair, standbyPair } from '../helpers/standby.js';

let pair: StandbyPair;
beforeAll(async () => {
  const started = performance.now();
  pair = await standbyPair();
  if (pair.startSeconds)
    console.log(
      `primary + standby started in ${pair.startSeconds} s (${Math.round(performance.now() - started)} ms with pools)`,
    );
});

describe('the test primary + standby', () => {
  it('streams from the primary through its slot and is in recovery', async () => {
    const [standby] = await pair.standby<{ recovery: boolean }[]>`select pg_is_in_recovery() as recovery`;
    expect(standby!.recovery).toBe(true);
    const rows = await pair.primary<
      { name: string; state: string }[]
    >`select application_name as name, state from pg_stat_replication`;
    expect(rows).toContainEqual({ name: pair.standbyName, state: 'streaming' });
    const [slot] = await pair.primary<
      { active: boolean }[]
    >`select active from pg_replication_slots where slot_name = ${pair.slotName}`;
    expect(slot!.active).toBe(true);
  });

  it('replays a write, and holds it back while replay is paused', async () => {
    const table = `pair_probe_${process.pid}`;
    await pair.primary.unsafe(`create table if not exists ${table} (n int)`);
    await pair.waitForReplay();
    await pair.withReplayPaused(async () => {
      await pair.primary.unsafe(`insert into ${table} values (1)`);
      await expect(pair.waitForReplay(300)).rejects.toThrow(/timed out/);
      const [row] = await pair.standby.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`);
      expect(row!.n).toBe(0);
    });
    await pair.waitForReplay();
    const [row] = await pair.standby.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`);
    expect(row!.n).toBe(1);
    await expect(pair.standby.unsafe(`insert into ${table} values (2)`)).rejects.toThrow(/read-only/);
    await pair.primary.unsafe(`drop table ${table}`);
  });
});
