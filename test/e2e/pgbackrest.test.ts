/**
 * The physical engines, `pgstore backup --engine basebackup|pgbackrest` and
 * `pgstore restore --engine basebackup|pgbackrest --to-time`, against one private embedded
 * server (archive_mode needs a restart, which must not disturb the shared test server; one
 * server for both engines: an initdb and a start cost seconds of CPU).
 * - basebackup (no pgBackRest): the server archives WAL into the backup folder with PostgreSQL
 *   15's basic_archive module, pg_basebackup copies the cluster, and a restore replays that
 *   archive into a new data folder. It runs first, and switches archiving on (a restart).
 * - pgbackrest: then, with archiving reset and the server restarted, in a backup folder of its
 *   own. pgBackRest itself is installed by scripts/test-prereqs.sh (`npm test` runs it first).
 * Each engine's first backup and its restore to a time run the built binary; pgBackRest's
 * incremental backup and restore to the end, the listings, health and the refusals the CLI's
 * entry in-process (test/helpers/cli-in-process.ts: no node start-up each).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { namingProblems, schemaProblems } from '../helpers/json-contract.js';
import { pastBackupStopSecond } from '../helpers/pgbackrest-clock.js';
import { startPrivateServer, type PrivateServer } from '../helpers/private-server.js';

let server: PrivateServer;
let sql: ReturnType<typeof postgres>;

/** pgBackRest's backups under root/backups (server.env), basic_archive's under root/basebackup. */
const basebackupEnv = () => ({ ...server.env, PGSTORE_BACKUP_DIR: join(server.root, 'basebackup') });
const cli = (args: string[], env = server.env) => runCli(args, { env, timeoutMs: 180_000 });
const inProcess = (args: string[], env = server.env) => runCliInProcess(args, { env });

beforeAll(async () => {
  server = await startPrivateServer();
  sql = rawSql(server.url, { max: 1, onnotice: () => undefined });
}, 120_000);

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await server?.stop();
}, 120_000);

/** Rows of table pitr in a restored copy on `port`, its highest id, and whether it is still recovering. */
async function countOn(port: number): Promise<{ rows: number; max: number; recovering: boolean }> {
  const copy = rawSql({
    ...server.conn,
    host: '127.0.0.1',
    port,
    username: server.conn.user,
    database: server.conn.database,
    max: 1,
    onnotice: () => undefined,
  });
  try {
    const [row] = await copy<
      Array<{ n: number; max: number; r: boolean }>
    >`select count(*)::int as n, max(id) as max, pg_is_in_recovery() as r from pitr`;
    return { rows: row!.n, max: row!.max, recovering: row!.r };
  } finally {
    await copy.end({ timeout: 5 });
  }
}

describe('basebackup engine (basic_archive)', () => {
  // The server as pgBackRest's case expects it, as if new: its table gone (pgBackRest's restores
  // list every table of the database) and archiving off again. A restart, not a reload: after a
  // reload that changes archive_library, PostgreSQL 15 restarts its archiver only when the
  // postmaster next wakes (20-60 s of waiting for pgBackRest's archive check here).
  afterAll(async () => {
    await sql`drop table if exists pitr`;
    for (const name of ['archive_mode', 'archive_library', 'basic_archive.archive_directory'])
      await sql.unsafe(`alter system reset "${name}"`);
    for (const step of ['stop', 'start']) {
      const r = await inProcess(['server', step]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);

  it('archives WAL with basic_archive and restores exactly the rows committed before --to-time', async () => {
    await sql`create table pitr (id int primary key)`;
    const taken = await cli(['backup', '--engine', 'basebackup', '--json'], basebackupEnv());
    expect(taken.code, taken.stderr).toBe(0);
    const result = JSON.parse(taken.stdout);
    expect(schemaProblems('backup', result), 'docs/json-schema/backup.json').toEqual([]);
    expect(result).toMatchObject({ engine: 'basebackup', archiving: 'restarted', backup: { type: 'full' } });
    const [settings] = await sql<
      Array<{ lib: string; dir: string }>
    >`select current_setting('archive_library') as lib, current_setting('basic_archive.archive_directory') as dir`;
    expect(settings).toEqual({ lib: 'basic_archive', dir: join(server.root, 'basebackup', 'wal-archive') });

    for (let i = 1; i <= 30; i++) await sql`insert into pitr values (${i})`;
    const [{ at }] = await sql<Array<{ at: string }>>`select clock_timestamp()::text as at`;
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 31; i <= 45; i++) await sql`insert into pitr values (${i})`;

    const list = JSON.parse((await inProcess(['backup', 'list', '--json'], basebackupEnv())).stdout) as Array<{
      engine: string;
      id: string;
    }>;
    expect(schemaProblems('backup-list', list), 'docs/json-schema/backup-list.json').toEqual([]);
    expect(list).toEqual([expect.objectContaining({ engine: 'basebackup', id: result.backup.id })]);

    const dir = join(server.root, 'restored-basebackup');
    server.watch(dir);
    const restored = await cli(
      ['restore', '--engine', 'basebackup', '--to-time', at, '--data-dir', dir, '--json'],
      basebackupEnv(),
    );
    expect(restored.code, restored.stderr).toBe(0);
    const r = JSON.parse(restored.stdout);
    expect(schemaProblems('restore', r), 'docs/json-schema/restore.json').toEqual([]);
    expect(namingProblems(r), 'the naming rule (docs/json.md)').toEqual([]);
    expect(r.tables).toEqual([{ schema: 'public', name: 'pitr', rows: 30 }]);
    expect(await countOn(r.port)).toEqual({ rows: 30, max: 30, recovering: false });
    await server.stopDataDir(dir);
  }, 240_000);

  it('is refused for a server that is not the embedded one', async () => {
    const other = await inProcess(
      ['backup', '--engine', 'basebackup'],
      cleanEnv({ DATABASE_URL: inject('pgServer').adminUrl, PGSTORE_BACKUP_DIR: join(server.root, 'other') }),
    );
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('for the embedded server only');
  });
});

describe('pgbackrest engine', () => {
  it('takes full and incremental backups, lists them, and restores exactly the rows committed before --to-time', async () => {
    const full = await cli(['backup', '--engine', 'pgbackrest', '--json']);
    expect(full.code, full.stderr).toBe(0);
    const fullResult = JSON.parse(full.stdout);
    expect(fullResult.archiving).toBe('restarted');
    expect(fullResult.backup.type).toBe('full');

    // Past the second the backup stopped in, or a target finds no set (pgbackrest-clock.ts).
    await pastBackupStopSecond(fullResult.backup.finishedAt);
    await sql`create table pitr (id int primary key, batch text not null)`;
    // One row per transaction, so the point in time falls between two commits, not inside one.
    for (let i = 1; i <= 40; i++) await sql`insert into pitr values (${i}, 'before')`;
    const [{ at }] = await sql<Array<{ at: string }>>`select clock_timestamp()::text as at`;
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 41; i <= 65; i++) await sql`insert into pitr values (${i}, 'after')`;
    const incr = await inProcess(['backup', '--engine', 'pgbackrest', '--type', 'incr', '--json']);
    expect(incr.code, incr.stderr).toBe(0);
    const incrResult = JSON.parse(incr.stdout);
    expect(schemaProblems('backup', incrResult), 'docs/json-schema/backup.json').toEqual([]);
    expect(incrResult.archiving).toBe('unchanged');
    expect(incrResult.backup).toMatchObject({ type: 'incr', priorBackupId: fullResult.backup.id });
    // Only in WAL that no backup holds yet: the restore must archive it before restoring.
    for (let i = 66; i <= 72; i++) await sql`insert into pitr values (${i}, 'latest')`;

    const list = await inProcess(['backup', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as Array<{ id: string; engine: string; type: string }>;
    expect(schemaProblems('backup-list', listed), 'docs/json-schema/backup-list.json').toEqual([]);
    expect(listed.map((b) => [b.engine, b.type])).toEqual([
      ['pgbackrest', 'incr'],
      ['pgbackrest', 'full'],
    ]);
    const table = await inProcess(['backup', 'list']);
    expect(table.stdout).toContain('pgbackrest incr');

    const health = await inProcess(['health', '--json']);
    const lastBackup = JSON.parse(health.stdout).checks.find((c: { name: string }) => c.name === 'last_backup');
    expect(lastBackup).toMatchObject({ status: 'ok' });
    expect(lastBackup.message).toContain(incrResult.backup.id);

    const atTime = join(server.root, 'restored-at-time');
    server.watch(atTime);
    const restored = await cli(['restore', '--engine', 'pgbackrest', '--to-time', at, '--data-dir', atTime, '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    const r = JSON.parse(restored.stdout);
    expect(schemaProblems('restore', r), 'docs/json-schema/restore.json').toEqual([]);
    expect(namingProblems(r), 'the naming rule (docs/json.md)').toEqual([]);
    expect(r.tables).toEqual([{ schema: 'public', name: 'pitr', rows: 40 }]);
    expect(await countOn(r.port)).toEqual({ rows: 40, max: 40, recovering: false });
    await server.stopDataDir(atTime);

    const latest = join(server.root, 'restored-latest');
    server.watch(latest);
    const end = await inProcess(['restore', '--engine', 'pgbackrest', '--data-dir', latest, '--json']);
    expect(end.code, end.stderr).toBe(0);
    expect(await countOn(JSON.parse(end.stdout).port)).toEqual({ rows: 72, max: 72, recovering: false });
    await server.stopDataDir(latest);
    // The running cluster was never touched.
    const [{ n }] = await sql<Array<{ n: number }>>`select count(*)::int as n from pitr`;
    expect(n).toBe(72);
    // stanza-create ran for the first backup only: the incremental backup and the restores found
    // the stanza ready for this cluster (each stanza-create costs ~0.6 s with pgBackRest 2.45).
    const stanzaLog = readFileSync(
      join(server.root, 'backups', 'pgbackrest', 'log', 'pgstore-stanza-create.log'),
      'utf8',
    );
    expect(stanzaLog.match(/stanza-create command begin/g)).toHaveLength(1);
  }, 240_000);

  it('refuses a non-empty data folder, the live one, a time without a zone and a time in the future', async () => {
    const used = join(server.root, 'used');
    mkdirSync(used, { recursive: true });
    writeFileSync(join(used, 'keep.txt'), 'mine');
    const nonEmpty = await inProcess(['restore', '--engine', 'pgbackrest', '--data-dir', used]);
    expect(nonEmpty.code, nonEmpty.stderr).toBe(3);
    expect(nonEmpty.stderr).toContain('is not empty');
    expect(existsSync(join(used, 'keep.txt'))).toBe(true);

    const live = await inProcess(['restore', '--engine', 'pgbackrest', '--data-dir', join(server.home, 'data')]);
    expect(live.code).toBe(2);
    expect(live.stderr).toContain("running cluster's data folder");

    const noZone = await inProcess([
      'restore',
      '--engine',
      'pgbackrest',
      '--to-time',
      '2026-01-02 03:04:05',
      '--data-dir',
      join(server.root, 'x'),
    ]);
    expect(noZone.code).toBe(2);
    expect(noZone.stderr).toContain('not a timestamp with a time zone');

    const future = await inProcess([
      'restore',
      '--engine',
      'pgbackrest',
      '--to-time',
      '2999-01-02 03:04:05+00',
      '--data-dir',
      join(server.root, 'y'),
    ]);
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('in the future');
    expect(existsSync(join(server.root, 'y'))).toBe(false);

    for (const r of [nonEmpty, live, noZone, future]) expect(r.stderr).not.toMatch(/at .*\.js:\d+|This is a bug/);
  }, 120_000);
});
