/**
 * `pgstore health` against the real primary + standby (test/helpers/standby.ts): Nagios exit
 * codes and JSON for replicas missing, and a standby that is all ok. The first Nagios check runs
 * the built binary; the others the CLI's entry in-process (test/helpers/cli-in-process.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreOptions } from '../helpers/core-options.js';
import { migrateUp } from '../../src/core/migrate/index.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { startRoundTripProxy } from '../helpers/round-trip-proxy.js';
import { type StandbyPair, standbyPair } from '../helpers/standby.js';

let pair: StandbyPair;
const database = `health_e2e_${process.pid}`;
beforeAll(async () => {
  pair = await standbyPair();
  // A migrated database, replayed on the standby: there every check can be ok.
  await pair.primary.unsafe(`create database ${database}`);
  await migrateUp(coreOptions(pair.urlFor('primary', database)));
  await pair.waitForReplay();
});
afterAll(async () => {
  await pair?.primary.unsafe(`drop database if exists ${database} with (force)`);
});

const health = (url: string, args: string[], run = runCliInProcess) =>
  run(['health', ...args], { env: cleanEnv({ DATABASE_URL: url }) });

describe('pgstore health on a primary and its standby', () => {
  it('is CRITICAL (Nagios 2, else exit 1) when fewer replicas than --expected-replicas are connected', async () => {
    const nagios = await health(
      pair.urlFor('primary', database),
      ['--format', 'nagios', '--expected-replicas', '2'],
      runCli,
    );
    expect(nagios.stderr).toBe('');
    expect(nagios.code).toBe(2);
    expect(nagios.stdout).toMatch(
      /^PGSTORE CRITICAL - .*replicas: 1 of 2 expected replicas connected: pgstore_test_standby streaming/,
    );
    expect(nagios.stdout).toMatch(/ replicas=1 /);
    expect(nagios.stdout).toMatch(/'replication_lag_bytes:pgstore_test_standby'=\d+B/);

    const json = await health(pair.urlFor('primary', database), ['--json', '--expected-replicas', '2']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.checks.find((c: { name: string }) => c.name === 'replicas')).toMatchObject({
      status: 'critical',
      value: 1,
      unit: 'replicas',
    });
    expect(report.checks.find((c: { name: string }) => c.name === `slot:${pair.slotName}`)).toMatchObject({
      unit: 'bytes',
    });
    expect(report.checks.find((c: { name: string }) => c.name === 'archiver')).toMatchObject({ unit: 'segments' });
  });

  it('is OK (exit 0) on a caught-up standby, with its lag and WAL receiver in the JSON and the perfdata', async () => {
    await pair.waitForReplay();
    const nagios = await health(pair.urlFor('standby', database), ['--format', 'nagios']);
    expect(nagios.stderr).toBe('');
    expect(nagios.stdout).toMatch(/^PGSTORE OK - \d+ checks ok \|/);
    // (Not necessarily 0 B: another file may be holding replay of the shared pair for a moment.)
    expect(nagios.stdout).toMatch(/ replication_lag=[\d.]+s replication_lag_bytes=\d+B/);
    expect(nagios.code).toBe(0);

    const json = await health(pair.urlFor('standby', database), ['--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.status).toBe('ok');
    const byName = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
    expect(byName.role).toMatchObject({ value: 'replica' });
    expect(byName.replication_lag).toMatchObject({ status: 'ok', unit: 's' });
    expect(byName.wal_receiver).toMatchObject({ status: 'ok', value: 'streaming' });
  });

  it('asks a standby everything in one round trip too (its replay and WAL receiver with the rest)', async () => {
    const url = new URL(pair.urlFor('standby', database));
    // Answers held 100 ms (not the default 250): health sends its checks together, in one tick.
    const proxy = await startRoundTripProxy({ host: url.hostname, port: Number(url.port) }, 100);
    try {
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      // The proxy's delay is the round trip health measures.
      const relaxed = ['--latency-warning', '5000', '--latency-critical', '9000'];
      const json = await health(url.toString(), ['--json', ...relaxed]);
      expect(json.stderr).toBe('');
      const byName = Object.fromEntries(JSON.parse(json.stdout).checks.map((c: { name: string }) => [c.name, c]));
      expect(byName.role).toMatchObject({ value: 'replica' });
      expect(byName.wal_receiver).toMatchObject({ status: 'ok', value: 'streaming' });
      // The proving select 1, then every check.
      expect(proxy.queryTrips()).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a bad --expected-replicas with one line and exit 2', async () => {
    const result = await health(pair.primaryUrl, ['--expected-replicas', 'two']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--expected-replicas must be a whole number ≥ 0, got 'two'");
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
