/**
 * Starts the project's own embedded PostgreSQL (the module the product uses) in a temporary
 * home on a free port, prepares a template database once, and stops it all afterwards. The
 * cluster is a copy of the initdb template an earlier run kept (cluster-template.ts) when there
 * is one, else pgstore's own cluster creation makes it.
 * The server also stops by itself if this process is killed.
 */
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { connectionUrl, DEFAULT_POOL, type EmbeddedTarget, type ServerConnection } from '../../src/db/config.js';
import { ensureEmbedded, stopEmbedded } from '../../src/db/embedded.js';
import { withAdminSql } from '../../src/db/pool.js';
import { migrateUp } from '../../src/core/migrate/migrate.js';
import { serverCpuSeconds } from './server-cpu.js';
import { serverDataRoot, TEMPLATE_DB, type TestServer } from './server-info.js';
import { freePort } from './free-port.js';
import { cheapScramVerifier } from './scram-verifier.js';
import { cachedTemplate, copyTemplate, createDatabase } from './cluster-template.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const home = mkdtempSync(join(serverDataRoot(), 'pgstore-test-'));
  try {
    return await startTestServer(project, home);
  } catch (error) {
    // A set-up that failed leaves nothing in memory (/dev/shm) behind it.
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}

async function startTestServer(project: TestProject, home: string): Promise<() => Promise<void>> {
  const port = await freePort();
  const target: EmbeddedTarget = {
    kind: 'embedded',
    source: 'embedded',
    home,
    port,
    database: 'pgstore',
    pool: DEFAULT_POOL,
    serverUser: process.env.PGSTORE_SERVER_USER,
    // The version matrix (scripts/version-matrix.js) runs the suite on another major's build.
    binaries: process.env.PGSTORE_TEST_PG_ROOT || undefined,
  };
  // A template kept by an earlier run (cluster-template.ts): copied and started, no initdb.
  const cached = cachedTemplate(target.serverUser);
  if (cached) await copyTemplate(target, cached, []);
  const conn = await ensureEmbedded(target, { stopWhenProcessDies: process.pid });
  try {
    if (cached) await createDatabase(conn, target.database);
    await prepareServer(conn);
  } catch (error) {
    await stopEmbedded(target).catch(() => undefined);
    throw error;
  }
  const info: TestServer = {
    home,
    port,
    password: conn.password!,
    user: conn.user,
    adminUrl: connectionUrl({ ...conn, database: 'postgres' }),
  };
  project.provide('pgServer', info);
  return async () => {
    if (process.env.PGSTORE_TEST_PG_CPU) {
      const seconds = serverCpuSeconds(join(home, 'data'));
      appendFileSync(process.env.PGSTORE_TEST_PG_CPU, `test server cpu ${seconds} s\n`);
    }
    await stopEmbedded(target).catch(() => undefined);
    if (process.env.PGSTORE_TEST_PG_LOG)
      copyFileSync(join(home, 'log', 'postgresql.log'), process.env.PGSTORE_TEST_PG_LOG);
    rmSync(home, { recursive: true, force: true });
  };
}

/** The throwaway server's settings, and the template database with pgstore's schema. */
async function prepareServer(conn: ServerConnection): Promise<void> {
  await withAdminSql(conn, async (sql) => {
    // A throwaway server: no test survives a crash of it, so nothing waits for the disk.
    // (fsync, full_page_writes and synchronous_commit take effect on reload.)
    await sql.unsafe(`alter system set fsync = off`);
    await sql.unsafe(`alter system set full_page_writes = off`);
    await sql.unsafe(`alter system set synchronous_commit = off`);
    // Test databases live for seconds and are dropped: autovacuum's workers on them were wasted.
    await sql.unsafe(`alter system set autovacuum = off`);
    await sql.unsafe(`alter system set jit = off`);
    // Diagnostics (PGSTORE_TEST_PG_LOG=<file>): every connection and statement, kept after the run.
    if (process.env.PGSTORE_TEST_PG_LOG) {
      for (const setting of ['log_connections', 'log_disconnections', 'log_checkpoints'])
        await sql.unsafe(`alter system set ${setting} = on`);
      await sql.unsafe(`alter system set log_min_duration_statement = 0`);
      await sql.unsafe(`alter system set log_line_prefix = '%m [%p] %d %a '`);
    }
    await sql.unsafe(`select pg_reload_conf()`);
    // The same password, cheaper for every client that connects (scram-verifier.ts).
    const role = `"${conn.user.replace(/"/g, '""')}"`;
    await sql.unsafe(`alter role ${role} password '${cheapScramVerifier(conn.password!)}'`);
    await sql.unsafe(`drop database if exists ${TEMPLATE_DB}`);
    await sql.unsafe(`create database ${TEMPLATE_DB}`);
  });
  // The template carries pgstore's whole schema, migrated once for the run.
  await migrateUp({ target: { ...conn, database: TEMPLATE_DB }, env: {} });
}
