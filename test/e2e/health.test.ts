/**
 * `pgstore health` on a good database: the report's checks, units and the migrations check.
 * The first report runs the built binary; the others the CLI's entry in-process
 * (test/helpers/cli-in-process.ts: same parsing, output and exit codes, no node start-up each).
 */
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, testServerEnv } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { createTestDatabase, useTestDatabase } from '../helpers/db.js';
import { MIGRATION_COUNT } from '../helpers/migrations.js';
import { pastEndOfLife } from '../helpers/server-version.js';

/** Round-trip limits no busy test machine reaches (the thresholds have tests of their own). */
const RELAXED_LATENCY = ['--latency-warning', '10000', '--latency-critical', '20000'];

describe('pgstore health', () => {
  const db = useTestDatabase();

  it('reports every check as JSON for a database URL', async () => {
    // A busy machine (three test files at a time on two cores) can take more than the default
    // 100 ms for a round trip: the latency limits are not what this test is about.
    const result = await runCli(['health', '--json', ...RELAXED_LATENCY], { env: cleanEnv({ DATABASE_URL: db.url }) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    // PostgreSQL 14 is past its end of life (2026-11-12): the version matrix sees that warning.
    const eol = await pastEndOfLife(db.url);
    expect(report.status).toBe(eol ? 'warning' : 'ok');
    for (const check of report.checks)
      expect(check.status, check.name).toBe(eol && check.name === 'server_version' ? 'warning' : 'ok');
    if (eol)
      expect(report.checks.find((c: { name: string }) => c.name === 'server_version').message).toMatch(
        /is past end of life \(\d{4}-\d\d-\d\d\); plan an upgrade$/,
      );
    expect(typeof report.durationMs).toBe('number');
    const names = report.checks.map((c: { name: string }) => c.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'connection',
        'server_version',
        'database',
        'role',
        'connections',
        'oldest_transaction',
        'idle_in_transaction',
        'wraparound',
      ]),
    );
    for (const check of report.checks) {
      expect(Object.keys(check).sort()).toEqual(['message', 'name', 'status', 'unit', 'value']);
    }
    expect(report.checks.find((c: { name: string }) => c.name === 'database').message).toContain(db.name);
    expect(report.checks.find((c: { name: string }) => c.name === 'migrations')).toMatchObject({
      status: 'ok',
      value: 0,
      message: `pgstore: ${MIGRATION_COUNT} applied, none pending`,
    });
  });

  it('the table shows the database size in human units; JSON keeps the bytes', async () => {
    const env = cleanEnv({ DATABASE_URL: db.url });
    const text = await runCliInProcess(['health'], { env });
    const row = text.stdout.split('\n').find((line) => / database /.test(line))!;
    const value = row.split('│')[3]!.trim();
    expect(value, row).toMatch(/^\d+(\.\d)? (kB|MB|GB)$/);
    const json = JSON.parse((await runCliInProcess(['health', '--json'], { env })).stdout);
    const database = json.checks.find((c: { name: string }) => c.name === 'database');
    expect(database).toMatchObject({ unit: 'bytes', value: expect.any(Number) });
    expect(database.value).toBeGreaterThan(1024 * 1024);
  });

  it('warns about pending migrations', async () => {
    const empty = await createTestDatabase('template0');
    try {
      const result = await runCliInProcess(['health', '--json'], { env: cleanEnv({ DATABASE_URL: empty.url }) });
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report.status).toBe('warning');
      expect(report.checks.find((c: { name: string }) => c.name === 'migrations')).toMatchObject({
        status: 'warning',
        value: MIGRATION_COUNT,
        message: `pgstore: 0 applied, ${MIGRATION_COUNT} pending`,
      });
    } finally {
      await empty.drop();
    }
  });

  it('checks the embedded default, disk included', async () => {
    const result = await runCliInProcess(['health', '--json'], { env: testServerEnv() });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.checks.map((c: { name: string }) => c.name)).toContain('disk');
  });
});
