/**
 * Replication health from both ends against a real primary + streaming standby
 * (test/helpers/standby.ts): replicas connected or missing, lag while replay is paused, an
 * inactive slot, a failing WAL archiver that recovers, and a standby of an idle primary.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { coreOptions } from '../helpers/core-options.js';
import { runHealth, type CheckResult, type HealthOptions, type HealthReport } from '../../src/core/health/index.js';
import { type StandbyPair, standbyPair, waitUntil } from '../helpers/standby.js';

let pair: StandbyPair;
beforeAll(async () => {
  pair = await standbyPair();
});

const health = (url: string, options: Partial<HealthOptions> = {}) => runHealth({ ...coreOptions(url), ...options });
const check = (report: HealthReport, name: string): CheckResult | undefined =>
  report.checks.find((c) => c.name === name);
const table = `health_repl_${process.pid}`;
/**
 * The replay lag (seconds) that warns in these tests: a fraction of a second, so the lag (and
 * the idleness) it takes to pass it is a moment's wait. The standby reports its replay to the
 * primary every second (wal_receiver_status_interval, test/helpers/standby.ts).
 */
const LAG_LIMIT_S = 0.2;

/**
 * Runs health until `ok` accepts the report (bounded), returning that report; `before` runs
 * before each try (e.g. a WAL switch, until the archiver has read its new command).
 */
async function healthUntil(
  what: string,
  url: string,
  options: Partial<HealthOptions>,
  ok: (r: HealthReport) => boolean,
  before?: () => Promise<void>,
): Promise<HealthReport> {
  let last: HealthReport | undefined;
  try {
    await waitUntil(what, 15_000, async () => {
      await before?.();
      last = await health(url, options);
      return ok(last);
    });
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; last report: ${JSON.stringify(last?.checks.filter((c) => c.status !== 'ok'))}`,
    );
  }
  return last!;
}

describe('health on the primary', () => {
  it('counts the connected replica against --expected-replicas', async () => {
    const one = await health(pair.primaryUrl, { expectedReplicas: 1 });
    expect(check(one, 'replicas')).toMatchObject({ status: 'ok', value: 1, unit: 'replicas' });
    expect(check(one, 'replicas')!.message).toContain(
      `1 of 1 expected replica connected: ${pair.standbyName} streaming`,
    );
    expect(check(one, `replication_lag_bytes:${pair.standbyName}`)).toMatchObject({ unit: 'bytes' });
    expect(check(one, `replication_lag:${pair.standbyName}`)).toMatchObject({ unit: 's' });
    expect(check(one, 'standby')).toBeUndefined();
    expect(check(one, 'wal_receiver')).toBeUndefined();

    const two = await health(pair.primaryUrl, { expectedReplicas: 2 });
    expect(check(two, 'replicas')).toMatchObject({ status: 'critical', value: 1 });
    expect(check(two, 'replicas')!.message).toContain('1 of 2 expected');
    expect(two.status).toBe('critical');
  });

  it('says a replica is missing when none is connected at all', async () => {
    // The suite's own server has no replicas.
    const { inject } = await import('vitest');
    const report = await health(inject('pgServer').adminUrl, { expectedReplicas: 1 });
    expect(check(report, 'replicas')).toMatchObject({
      status: 'critical',
      value: 0,
      message: '0 of 1 expected replica connected',
    });
    const unasked = await health(inject('pgServer').adminUrl);
    expect(check(unasked, 'replicas')).toBeUndefined();
  });

  it('sees lag in bytes and seconds while the standby does not replay, from both ends', async () => {
    await pair.primary.unsafe(`create table if not exists ${table} (n int, pad text)`);
    await pair.waitForReplay();
    const limits = {
      'replication-lag-mb': { warning: 1, critical: 1000 },
      'replication-lag': { warning: LAG_LIMIT_S, critical: 600 },
    };
    await pair.withReplayPaused(async () => {
      // About 5 MB of WAL the standby receives but does not replay.
      await pair.primary.unsafe(`insert into ${table} select g, repeat('x', 100) from generate_series(1, 40000) g`);
      const primary = await healthUntil(
        'lag on the primary',
        pair.primaryUrl,
        { limits },
        (r) =>
          check(r, `replication_lag_bytes:${pair.standbyName}`)?.status === 'warning' &&
          check(r, `replication_lag:${pair.standbyName}`)?.status === 'warning',
      );
      expect(check(primary, `replication_lag_bytes:${pair.standbyName}`)!.value).toBeGreaterThan(1024 * 1024);
      expect(check(primary, `replication_lag:${pair.standbyName}`)!.value).toBeGreaterThanOrEqual(LAG_LIMIT_S);

      const standby = await healthUntil(
        'lag on the standby',
        pair.standbyUrl,
        { limits },
        (r) => check(r, 'replication_lag')?.status === 'warning',
      );
      expect(check(standby, 'replication_lag_bytes')).toMatchObject({ status: 'warning' });
      expect(check(standby, 'replication_lag_bytes')!.value).toBeGreaterThan(1024 * 1024);
      expect(check(standby, 'replication_lag')!.message).toContain('replay paused');
      expect(check(standby, 'wal_receiver')).toMatchObject({ status: 'ok', value: 'streaming' });
    });
    await pair.waitForReplay();
    const after = await healthUntil(
      'no lag after resuming',
      pair.primaryUrl,
      { limits },
      (r) => check(r, `replication_lag_bytes:${pair.standbyName}`)?.status === 'ok',
    );
    expect(check(after, `replication_lag_bytes:${pair.standbyName}`)!.value).toBeLessThan(1024 * 1024);
    await pair.primary.unsafe(`drop table ${table}`);
  });

  it('reports an inactive slot, and one that keeps too much WAL', async () => {
    const slot = `idle_slot_${process.pid}`;
    await pair.primary`select pg_create_physical_replication_slot(${slot}, true)`;
    try {
      const report = await health(pair.primaryUrl);
      expect(check(report, `slot:${slot}`)).toMatchObject({ status: 'warning', unit: 'bytes' });
      expect(check(report, `slot:${slot}`)!.message).toContain('inactive');
      expect(check(report, `slot:${pair.slotName}`)).toMatchObject({ status: 'ok' });
      expect(check(report, `slot:${pair.slotName}`)!.message).toContain('active');

      // WAL written since the slot was made stays for it; a 1 MB limit makes that critical.
      await pair.primary.unsafe(`create table ${table}_slot as select g from generate_series(1, 100000) g`);
      await pair.primary.unsafe(`drop table ${table}_slot`);
      const strict = await healthUntil(
        'the slot over its limit',
        pair.primaryUrl,
        { limits: { 'slot-wal-mb': { warning: 0.5, critical: 1 } } },
        (r) => check(r, `slot:${slot}`)?.status === 'critical',
      );
      expect(check(strict, `slot:${slot}`)!.value).toBeGreaterThan(1024 * 1024);
    } finally {
      await pair.primary`select pg_drop_replication_slot(${slot})`;
    }
    expect(check(await health(pair.primaryUrl), `slot:${slot}`)).toBeUndefined();
  });

  it('reports a failing WAL archiver, and ok again once it archives (not on the failure counter)', async () => {
    // At most one new segment every 500 ms: a failing archiver keeps each (16 MB, in memory).
    let switched = 0;
    const switchWal = async () => {
      if (Date.now() - switched < 500) return;
      switched = Date.now();
      await pair.primary.unsafe(
        `create table if not exists ${table}_arch (n int); insert into ${table}_arch values (1)`,
      );
      await pair.primary`select pg_switch_wal()`;
    };
    const before = await health(pair.primaryUrl);
    expect(check(before, 'archiver')).toMatchObject({ status: 'ok', unit: 'segments' });
    try {
      await pair.primary.unsafe(`alter system set archive_command = 'false'`);
      await pair.primary`select pg_reload_conf()`;
      // The archiver reads the reloaded command when it next wakes: a segment it archived with
      // the old one first fails nothing, so a new segment each try until one fails.
      const failing = await healthUntil(
        'the archiver failing',
        pair.primaryUrl,
        {},
        (r) => check(r, 'archiver')?.status === 'critical',
        switchWal,
      );
      expect(check(failing, 'archiver')!.message).toMatch(/archive_command is failing: [0-9A-F]{24} failed/);
      expect(check(failing, 'archiver')!.value).toBeGreaterThanOrEqual(1);
    } finally {
      await pair.primary.unsafe(`alter system set archive_command = 'true'`);
      await pair.primary`select pg_reload_conf()`;
    }
    // A new segment each try: it wakes the archiver, which retries the failed one with 'true'.
    const recovered = await healthUntil(
      'the archiver archiving again',
      pair.primaryUrl,
      {},
      (r) => check(r, 'archiver')?.status === 'ok',
      switchWal,
    );
    expect(check(recovered, 'archiver')!.message).toMatch(/archived \d+ segments?, last [0-9A-F]{24}/);
    const [row] = await pair.primary<{ failed: string }[]>`select failed_count::text as failed from pg_stat_archiver`;
    expect(Number(row!.failed)).toBeGreaterThan(0);
    await pair.primary.unsafe(`drop table if exists ${table}_arch`);
  });
});

describe('health on the standby', () => {
  const idleReport = async () => {
    await pair.waitForReplay();
    // Idle until the last replayed commit is older than the lag limit (bounded).
    await waitUntil('the last replayed commit to age past the lag limit', 10_000, async () => {
      const [row] = await pair.standby<{ old: boolean }[]>`
        select coalesce(now() - pg_last_xact_replay_timestamp() > ${`${LAG_LIMIT_S * 1.5} seconds`}::interval, false) as old`;
      return row!.old;
    });
    return health(pair.standbyUrl, { limits: { 'replication-lag': { warning: LAG_LIMIT_S, critical: 600 } } });
  };

  it('is ok on an idle primary: caught up is no lag, however old the last commit', async () => {
    // Idle for longer than the lag limit below: now() - last replayed commit exceeds it. Other
    // files write to the shared primary now and then: a moment when the standby has received
    // WAL it has not replayed yet is not idle, so the check is taken again (a few times at most).
    let report = await idleReport();
    for (let attempt = 1; attempt < 8 && check(report, 'replication_lag')?.value !== 0; attempt++)
      report = await idleReport();
    expect(check(report, 'role')).toMatchObject({ value: 'replica' });
    expect(check(report, 'replication_lag')).toMatchObject({ status: 'ok', value: 0 });
    expect(check(report, 'replication_lag_bytes')).toMatchObject({ status: 'ok', value: 0 });
    expect(check(report, 'wal_receiver')).toMatchObject({ status: 'ok', value: 'streaming' });
    expect(check(report, 'wal_receiver')!.message).toMatch(/from 127\.0\.0\.1:\d+/);
    // A standby does not run the archiver (archive_mode on, not always), and has no replicas of its own.
    expect(check(report, 'archiver')).toBeUndefined();
    expect(check(report, 'replicas')).toBeUndefined();
  });
});
