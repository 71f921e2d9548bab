/**
 * Every wait is bounded: the programs pgstore starts (pg_dump and psql through libpq, dbmate)
 * give up connecting after pgstore's own connect timeout, not never, when the port is silent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbmateUrl } from '../../src/core/migrate/session.js';
import { resolveConnection, type ServerConnection } from '../../src/db/config.js';
import { libpqEnv } from '../../src/tools/libpq-env.js';
import { runDbmate } from '../../src/tools/dbmate.js';
import { dumpSchemaSql } from '../../src/tools/pg-dump.js';
import { closeListeners, type Listener, listen } from '../helpers/not-postgres.js';

// libpq's smallest connect_timeout is 2 s.
const TIMEOUT_S = 2;
const MARGIN_MS = 3_000;

describe('child programs on a silent port', () => {
  let silent: Listener;
  let conn: ServerConnection;
  let dir: string;
  beforeAll(async () => {
    silent = await listen('silent');
    conn = resolveConnection({
      databaseUrl: `postgres://someone:pw@127.0.0.1:${silent.port}/app?sslmode=disable&acquire_timeout=${TIMEOUT_S}`,
      env: {},
    }) as ServerConnection;
    dir = mkdtempSync(join(tmpdir(), 'pgstore-child-timeout-'));
  });
  afterAll(async () => {
    await closeListeners([silent]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('libpq children get the pool timeout as PGCONNECT_TIMEOUT; a URL connect_timeout wins', () => {
    expect(libpqEnv(conn).PGCONNECT_TIMEOUT).toBe(String(TIMEOUT_S));
    const own = resolveConnection({
      databaseUrl: `postgres://a@127.0.0.1:${silent.port}/app?connect_timeout=7`,
      env: {},
    }) as ServerConnection;
    expect(libpqEnv(own).PGCONNECT_TIMEOUT).toBe('7');
  });

  // The two waits overlap (it.concurrent): each is a program of its own on its own connection.
  it.concurrent('pg_dump gives up within the connect timeout', async () => {
    const started = Date.now();
    await expect(dumpSchemaSql(conn, 15, process.env)).rejects.toThrow(/timeout expired|pg_dump/);
    // Waited (libpq counts whole seconds: a little more than one of the two), then gave up.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_S * 1000 + MARGIN_MS);
  }, 20_000);

  it.concurrent('dbmate gives up within the connect timeout', async () => {
    const started = Date.now();
    const run = await runDbmate('migrate', {
      url: dbmateUrl({ conn, ssl: false }, { name: 'app' }, {}),
      migrationsDir: dir,
      timeoutMs: 15_000,
    });
    expect(run.failed).toBe(true);
    expect(run.timedOut).toBeFalsy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000); // waited, then gave up
    expect(Date.now() - started).toBeLessThan(TIMEOUT_S * 1000 + MARGIN_MS);
  }, 20_000);
});
