/**
 * Without pgBackRest: `pgstore backup --engine basebackup` makes the embedded server archive
 * WAL into the backup folder with PostgreSQL 15's basic_archive module and copies the cluster
 * with pg_basebackup; `pgstore restore --engine basebackup --to-time` replays that archive
 * into a new data folder. A private embedded server (archive_mode needs a restart). The backup
 * and the restore run the built binary; the listing and the refusal the CLI's entry in-process
 * (test/helpers/cli-in-process.ts).
 */
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { namingProblems, schemaProblems } from '../helpers/json-contract.js';
import { startPrivateServer, type PrivateServer } from '../helpers/private-server.js';
import { inject } from 'vitest';

let server: PrivateServer;
let sql: ReturnType<typeof postgres>;
const cli = (args: string[], env = server.env) => runCli(args, { env, timeoutMs: 180_000 });
const inProcess = (args: string[], env = server.env) => runCliInProcess(args, { env });

beforeAll(async () => {
  server = await startPrivateServer();
  sql = postgres(server.url, { max: 1, onnotice: () => undefined });
}, 120_000);

afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await server?.stop();
}, 120_000);

describe('basebackup engine (basic_archive)', () => {
  it('archives WAL with basic_archive and restores exactly the rows committed before --to-time', async () => {
    await sql`create table pitr (id int primary key)`;
    const taken = await cli(['backup', '--engine', 'basebackup', '--json']);
    expect(taken.code, taken.stderr).toBe(0);
    const result = JSON.parse(taken.stdout);
    expect(schemaProblems('backup', result), 'docs/json-schema/backup.json').toEqual([]);
    expect(result).toMatchObject({ engine: 'basebackup', archiving: 'restarted', backup: { type: 'full' } });
    const [settings] = await sql<
      Array<{ lib: string; dir: string }>
    >`select current_setting('archive_library') as lib, current_setting('basic_archive.archive_directory') as dir`;
    expect(settings).toEqual({ lib: 'basic_archive', dir: join(server.root, 'backups', 'wal-archive') });

    for (let i = 1; i <= 30; i++) await sql`insert into pitr values (${i})`;
    const [{ at }] = await sql<Array<{ at: string }>>`select clock_timestamp()::text as at`;
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 31; i <= 45; i++) await sql`insert into pitr values (${i})`;

    const list = JSON.parse((await inProcess(['backup', 'list', '--json'])).stdout) as Array<{
      engine: string;
      id: string;
    }>;
    expect(schemaProblems('backup-list', list), 'docs/json-schema/backup-list.json').toEqual([]);
    expect(list).toEqual([expect.objectContaining({ engine: 'basebackup', id: result.backup.id })]);

    const dir = join(server.root, 'restored');
    server.watch(dir);
    const restored = await cli(['restore', '--engine', 'basebackup', '--to-time', at, '--data-dir', dir, '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    const r = JSON.parse(restored.stdout);
    expect(schemaProblems('restore', r), 'docs/json-schema/restore.json').toEqual([]);
    expect(namingProblems(r), 'the naming rule (docs/json.md)').toEqual([]);
    expect(r.tables).toEqual([{ schema: 'public', name: 'pitr', rows: 30 }]);
    const copy = postgres({
      ...server.conn,
      host: '127.0.0.1',
      port: r.port,
      username: server.conn.user,
      max: 1,
      onnotice: () => undefined,
    });
    try {
      const [row] = await copy<
        Array<{ n: number; max: number; r: boolean }>
      >`select count(*)::int as n, max(id) as max, pg_is_in_recovery() as r from pitr`;
      expect(row).toEqual({ n: 30, max: 30, r: false });
    } finally {
      await copy.end({ timeout: 5 });
    }
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
