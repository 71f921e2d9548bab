/**
 * A database of one's own for a test file: created from the template, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { resolveConnection, type ServerConnection } from '../../src/db/config.js';
import { openPool, type Db } from '../../src/db/pool.js';
import { TEMPLATE_DB } from './server-info.js';

export interface TestDatabase {
  name: string;
  /** Superuser URL of this database (with password). */
  url: string;
  conn: ServerConnection;
  sql: Db;
}

function adminConn(): ServerConnection {
  return resolveConnection({ databaseUrl: inject('pgServer').adminUrl, env: {} }) as ServerConnection;
}

/**
 * The worker's one admin connection (on `postgres`), shared by the creates and drops of all the
 * files the worker runs (isolate: false keeps this module): a connection per create and per
 * drop was ~300 backend starts (~7 ms of server CPU each) in a run. Closed after a few idle
 * seconds, so a worker that is done holds nothing open.
 */
let adminPool: Promise<Db> | undefined;
function withAdmin<T>(fn: (sql: Db) => Promise<T>): Promise<T> {
  const admin = adminConn();
  adminPool ??= openPool(
    { ...admin, pool: { ...admin.pool, idleTimeoutSeconds: ADMIN_IDLE_SECONDS } },
    { max: 1, fetchTypes: false },
  );
  return adminPool.then(fn);
}
const ADMIN_IDLE_SECONDS = 5;

/**
 * `strategy file_copy` on PostgreSQL 15 and later: their default (wal_log) copies the template
 * block by block through the WAL and leaves the copy without the template's relation cache
 * file, which its first connection then builds. Copying the files: ~12 ms less server CPU per
 * database (create + first use, measured in memory). 14 copies files anyway and knows no STRATEGY.
 */
let strategyClause: Promise<string> | undefined;
function copyStrategy(sql: Db): Promise<string> {
  strategyClause ??= sql<Array<{ v: number }>>`select current_setting('server_version_num')::int as v`.then(([row]) =>
    row!.v >= 150000 ? ' strategy file_copy' : '',
  );
  return strategyClause;
}

/** Creates a fresh database from the template; `drop` removes it. */
export async function createTestDatabase(template = TEMPLATE_DB): Promise<TestDatabase & { drop(): Promise<void> }> {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = adminConn();
  await withAdmin(async (sql) => {
    const strategy = await copyStrategy(sql);
    for (let attempt = 0; ; attempt++) {
      try {
        await sql.unsafe(`create database ${name} template ${template}${strategy}`);
        return;
      } catch (error) {
        // 55006: the template is being copied by another test file right now.
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  const conn: ServerConnection = { ...admin, database: name };
  const url = adminUrlFor(name);
  // Like the CLI's pools: no array-type lookup at connect, reserve() kept working (src/db/reserve-settles.ts).
  const sql = await openPool(conn);
  return {
    name,
    url,
    conn,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await withAdmin((s) => s.unsafe(`drop database if exists ${name} with (force)`));
    },
  };
}

/** The superuser URL for another database on the test server. */
export function adminUrlFor(database: string): string {
  const url = new URL(inject('pgServer').adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Registers beforeAll/afterAll hooks giving the file its own database. */
export function useTestDatabase(): TestDatabase {
  const holder = {} as TestDatabase & { drop?: () => Promise<void> };
  let created: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  beforeAll(async () => {
    created = await createTestDatabase();
    Object.assign(holder, created);
  });
  afterAll(async () => {
    await created?.drop();
  });
  return holder;
}

/**
 * Empty databases (copied from template0, without pgstore's schema) made on demand by the
 * file's tests; all are dropped after the file.
 */
export function emptyDatabases(): () => Promise<TestDatabase & { drop(): Promise<void> }> {
  const made: Array<TestDatabase & { drop(): Promise<void> }> = [];
  afterAll(async () => {
    for (const db of made) await db.drop();
  });
  return async () => {
    const db = await createTestDatabase('template0');
    made.push(db);
    return db;
  };
}
