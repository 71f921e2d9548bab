/**
 * `pgstore health` asks the server everything in one round trip after the connection is
 * proven (issue 15: "one round trip for the checks"). Counted by a proxy that holds each answer
 * of the server for a while: a statement sent before the previous answer came back rides the
 * same round trip, one sent after it costs one more. The first two cases run the CLI's entry
 * in-process (test/helpers/cli-in-process.ts); the third reads the app's folder from the working
 * folder, so it runs the built binary in an empty one.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { useTestDatabase } from '../helpers/db.js';
import { MIGRATION_COUNT } from '../helpers/migrations.js';
import { type RoundTripProxy, startRoundTripProxy } from '../helpers/round-trip-proxy.js';

// The proxy's delay is the round trip health measures: no latency warning for it.
const RELAXED = ['--latency-warning', '5000', '--latency-critical', '9000'];

describe('pgstore health round trips', () => {
  const db = useTestDatabase();
  let proxy: RoundTripProxy;
  let viaProxy: string;

  beforeAll(async () => {
    // 150 ms: a pipelined client's statements leave within one tick, far inside it; each round
    // trip (the handshake's too) costs it, so the proxy's default 250 ms would only slow the runs.
    proxy = await startRoundTripProxy({ host: db.conn.host, port: db.conn.port }, 150);
    const url = new URL(db.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    viaProxy = url.toString();
  });
  afterAll(() => proxy?.close());

  /** `binary`: through the built binary in an empty working folder (no ./db/migrations of anyone's). */
  async function health(extraEnv: Record<string, string> = {}, args: string[] = [], binary = false) {
    proxy.trips.length = 0;
    const options = { env: cleanEnv({ DATABASE_URL: viaProxy, ...extraEnv }) };
    const command = ['health', '--json', ...RELAXED, ...args];
    const result = binary
      ? await runCli(command, { ...options, cwd: mkdtempSync(join(tmpdir(), 'pgstore-health-rt-')) })
      : await runCliInProcess(command, options);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { status: string; checks: Array<{ name: string; message: string }> };
    return { report, trips: proxy.queryTrips().map((t) => t.type) };
  }

  it('proves the connection, then runs every check in one round trip', async () => {
    const { report, trips } = await health();
    expect(report.status).toBe('ok');
    expect(report.checks.find((c) => c.name === 'migrations')?.message).toBe(
      `pgstore: ${MIGRATION_COUNT} applied, none pending`,
    );
    // The proving `select 1`, then the checks: 2, not one per check or per migrations table.
    expect(trips).toHaveLength(2);
  }, 60_000);

  it('reads an app set recorded in its own table in the same round trip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgstore-health-rt-app-'));
    writeFileSync(join(dir, '20250101000000_one.sql'), '-- migrate:up\nselect 1;\n\n-- migrate:down\n');
    await db.sql.unsafe('create table public.app_history (version varchar(128) primary key)');
    await db.sql.unsafe(`insert into public.app_history values ('20250101000000')`);
    try {
      const { report, trips } = await health({ DBMATE_MIGRATIONS_TABLE: 'app_history' }, ['--migrations-dir', dir]);
      expect(report.checks.find((c) => c.name === 'migrations')?.message).toBe(
        `pgstore: ${MIGRATION_COUNT} applied, none pending; app: 1 applied, none pending`,
      );
      expect(trips).toHaveLength(2);
    } finally {
      await db.sql.unsafe('drop table public.app_history');
    }
  }, 60_000);

  it("reads the app's history from the session's current schema when it is not public (one round trip more)", async () => {
    // "$user" comes first in the default search_path: a schema named as the role is the current one.
    const [{ user }] = (await db.sql`select current_user as user`) as unknown as [{ user: string }];
    const schema = `"${user.replace(/"/g, '""')}"`;
    await db.sql.unsafe(`create schema ${schema}`);
    await db.sql.unsafe(`create table ${schema}.schema_migrations (version varchar(128) primary key)`);
    await db.sql.unsafe(`insert into ${schema}.schema_migrations values ('20250101000000'), ('20250102000000')`);
    // public's (where the app's history usually is) must not be read instead.
    await db.sql.unsafe(`create table public.schema_migrations (version varchar(128) primary key)`);
    await db.sql.unsafe(`insert into public.schema_migrations values ('20990101000000')`);
    try {
      const { report, trips } = await health({}, [], true);
      expect(report.checks.find((c) => c.name === 'migrations')?.message).toMatch(
        new RegExp(
          `^pgstore: ${MIGRATION_COUNT} applied, none pending; app: 2 applied \\(no folder .+ to compare with\\)$`,
        ),
      );
      expect(trips).toHaveLength(3);
    } finally {
      await db.sql.unsafe(`drop schema ${schema} cascade; drop table public.schema_migrations`);
    }
  }, 60_000);
});
