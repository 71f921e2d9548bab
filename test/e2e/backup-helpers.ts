/**
 * Helpers shared by the backup and restore e2e tests: a temporary backup folder per test,
 * seeding, per-table row counts and content checksums, and psql for loading fixtures.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type postgres from 'postgres';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, inject } from 'vitest';
import { cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { adminUrlFor } from '../helpers/db.js';
import { backupId, backupStamp } from '../../src/core/backup/paths.js';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

/**
 * The newest /usr/lib/postgresql/<major>/bin: the programs Debian's /usr/bin/pg_dump,
 * pg_restore and psql run, since those are links to pg_wrapper, a Perl script that picks the
 * version and execs it (~30 ms of CPU per start; a restore starts ~5, a backup ~2). Undefined
 * where there is no such folder.
 */
export const NEWEST_PG_BIN: string | undefined = (() => {
  try {
    const majors = readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d));
    const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
    return newest ? join('/usr/lib/postgresql', newest, 'bin') : undefined;
  } catch {
    return undefined;
  }
})();

/** A temporary folder removed after the file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pgstore-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs pgstore against `url`, with extra environment. */
export function pgstore(
  url: string,
  args: string[],
  extra: Record<string, string | undefined> = {},
  timeoutMs = 120_000,
): Promise<CliResult> {
  return runCli(args, { env: cleanEnv({ DATABASE_URL: url, ...extra }), timeoutMs });
}

/** pgstore()'s twin through the CLI's entry in-process (test/helpers/cli-in-process.ts): no node start-up. */
export function pgstoreInProcess(
  url: string,
  args: string[],
  extra: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return runCliInProcess(args, { env: cleanEnv({ DATABASE_URL: url, ...extra }) });
}

/**
 * pgstoreInProcess() with PGSTORE_PG_BIN set to NEWEST_PG_BIN (unless `extra` sets it): the
 * same client programs pgstore finds on PATH, without pg_wrapper's Perl start in front of each.
 * For the files that take many backups and restores; finding the programs on PATH stays tested
 * by the runs without it (backup.test.ts's runs through the binary, server-versions.test.ts).
 */
export function pgstoreInProcessDirect(
  url: string,
  args: string[],
  extra: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return pgstoreInProcess(url, args, { PGSTORE_PG_BIN: NEWEST_PG_BIN, ...extra });
}

/** Databases created by a test file, dropped after it. */
export function databaseTracker(): {
  name(prefix: string): { name: string; url: string };
  sql(url: string): ReturnType<typeof postgres>;
} {
  const names: string[] = [];
  const pools: Array<ReturnType<typeof postgres>> = [];
  afterAll(async () => {
    for (const pool of pools) await pool.end({ timeout: 5 });
    const admin = rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
    for (const name of names) await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });
  return {
    name(prefix) {
      const name = `${prefix}_${Math.random().toString(16).slice(2, 10)}`;
      names.push(name);
      return { name, url: adminUrlFor(name) };
    },
    sql(url) {
      const pool = rawSql(url, { max: 2, onnotice: () => undefined });
      pools.push(pool);
      return pool;
    },
  };
}

/** Fills pgstore's schema with some rows: users, tenants, apps and host events. */
export async function seed(sql: ReturnType<typeof postgres>, users = 300): Promise<void> {
  await sql`insert into auth.users (email, name) select 'user' || i || '@example.com', 'User ' || i from generate_series(1, ${users}) i`;
  await sql`insert into tenancy.tenants (id, name, settings) select 't' || i, 'Tenant ' || i, jsonb_build_object('n', i) from generate_series(1, 20) i`;
  for (let i = 1; i <= 25; i++) {
    await sql`insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, event, created_at)
              values (${`e${i}`}, ${`h${i}`}, 'HostCreated', 'v1', ${sql.json({ type: 'HostCreated', ipAddress: `10.0.0.${i}`, hostname: `h${i}.test`, tags: ['a'] })}, now())`;
  }
}

export interface TableFingerprint {
  table: string;
  rows: number;
  md5: string;
}

/** Every ordinary table's row count and an md5 of its rows (in text form, sorted). */
export async function fingerprint(sql: ReturnType<typeof postgres>): Promise<TableFingerprint[]> {
  const tables = await sql<{ schema: string; name: string }[]>`
    select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_'
     order by 1, 2`;
  const out: TableFingerprint[] = [];
  for (const t of tables) {
    const q = `"${t.schema}"."${t.name}"`;
    const [row] = await sql.unsafe<{ rows: string; md5: string }[]>(
      `select count(*)::text as rows, md5(coalesce(string_agg(x::text, E'\\n' order by x::text), '')) as md5 from ${q} x`,
    );
    out.push({ table: `${t.schema}.${t.name}`, rows: Number(row!.rows), md5: row!.md5 });
  }
  return out;
}

/**
 * Runs psql with ON_ERROR_STOP on a file; throws with its stderr on failure. `settings`: server
 * settings for its session (PGOPTIONS), e.g. session_replication_role=replica to load a
 * data-only dump without firing triggers (foreign-key checks included) row by row.
 */
export function psqlFile(url: string, file: string, settings: Record<string, string> = {}): void {
  const u = new URL(url);
  const result = spawnSync(join(PG_BIN, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file], {
    env: {
      PATH: process.env.PATH,
      PGOPTIONS: Object.entries(settings)
        .map(([name, value]) => `-c ${name}=${value}`)
        .join(' '),
      PGHOST: u.hostname,
      PGPORT: u.port,
      PGUSER: decodeURIComponent(u.username),
      PGPASSWORD: decodeURIComponent(u.password),
      PGDATABASE: u.pathname.slice(1),
    },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`psql -f ${file} failed: ${result.stderr}`);
}

/** A folder under `base` holding an executable `pg_dump` wrapper with the given shell body (after --version). */
export function pgDumpWrapper(base: string, name: string, body: string): string {
  const dir = join(base, name);
  mkdirSync(dir);
  const path = join(dir, 'pg_dump');
  writeFileSync(path, `#!/bin/sh\ncase "$1" in --version) exec ${PG_BIN}/pg_dump --version;; esac\n${body}\n`);
  chmodSync(path, 0o755);
  return dir;
}

let lastCloneMs = 0;

/**
 * Another backup of the same database without running pg_dump again: a byte-for-byte copy of
 * the backup folder `from` (as pgstore wrote it: same dump, checksums, modes) in the database
 * folder `into` (default: beside it; made 0700 if missing), under a new ID stamped now (later
 * than any earlier clone), with its manifest's id, label and times set to match. For tests
 * whose subject is what pgstore does with backups (damage, listing, retention), not the taking
 * of them: no pg_dump, server backend or row counts each.
 */
export function cloneBackup(from: string, label?: string, into = dirname(from)): { id: string; path: string } {
  const at = new Date(Math.max(Date.now(), lastCloneMs + 1));
  lastCloneMs = at.getTime();
  const id = backupId(backupStamp(at), label);
  mkdirSync(into, { recursive: true, mode: 0o700 });
  const path = join(into, id);
  cpSync(from, path, { recursive: true, errorOnExist: true, force: false });
  const manifestPath = join(path, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const took = Date.parse(manifest.finishedAt) - Date.parse(manifest.startedAt);
  Object.assign(manifest, {
    id,
    label: label ?? null,
    startedAt: at.toISOString(),
    finishedAt: new Date(at.getTime() + took).toISOString(),
  });
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2), { mode: 0o600 });
  return { id, path };
}
