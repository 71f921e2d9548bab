/**
 * `pgstore backup --engine pgbackrest --backup-standby`, against a
 * private primary + streaming standby (this file points the primary's archiver at its own
 * repository, which must not disturb the shared pair): the files come from the standby, the
 * backup restores to a point in time, and a wrong or missing standby is one line with a hint.
 * The backup and the restore run the built binary; the refusals the CLI's entry in-process
 * (test/helpers/cli-in-process.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedLayout } from '../../src/db/embedded.js';
import { type CliResult, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { schemaProblems } from '../helpers/json-contract.js';
import { pastBackupStopSecond } from '../helpers/pgbackrest-clock.js';
import { type PrivateStandbyPair, privateStandbyPair, waitUntil } from '../helpers/standby.js';

let pair: PrivateStandbyPair;
let primary: ReturnType<typeof postgres>;
let standby: ReturnType<typeof postgres>;

const cli = (args: string[]) => runCli(args, { env: pair.env, timeoutMs: 120_000 });
const inProcess = (args: string[]) => runCliInProcess(args, { env: pair.env });
const open = (url: string) => rawSql(url, { max: 1, onnotice: () => undefined });

beforeAll(async () => {
  pair = await privateStandbyPair();
  primary = open(pair.primaryUrl);
  standby = open(pair.standbyUrl);
}, 120_000);

afterAll(async () => {
  await primary?.end({ timeout: 5 });
  await standby?.end({ timeout: 5 });
  await pair?.stop();
}, 120_000);

function oneLine(r: CliResult, code: number, text: string): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toContain(text);
  expect(r.stderr).toMatch(/hint/i);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+|This is a bug/);
}

describe('pgbackrest --backup-standby', () => {
  it('refuses a missing standby, a primary given as the standby, a data folder that is not there, and standby flags without it', async () => {
    const [none, notStandby, alone, dump, noDir] = await Promise.all([
      inProcess(['backup', '--engine', 'pgbackrest', '--backup-standby']),
      inProcess(['backup', '--engine', 'pgbackrest', '--backup-standby', '--standby-url', pair.primaryUrl]),
      inProcess(['backup', '--engine', 'pgbackrest', '--standby-url', pair.standbyUrl]),
      inProcess(['backup', '--backup-standby']),
      inProcess([
        'backup',
        '--engine',
        'pgbackrest',
        '--backup-standby',
        '--standby-url',
        pair.standbyUrl,
        '--standby-data-dir',
        join(pair.root, 'nowhere'),
      ]),
    ]);
    oneLine(none, 2, '--backup-standby needs the standby');
    oneLine(notStandby, 2, 'is not in recovery');
    oneLine(alone, 2, '--standby-url only applies with --backup-standby');
    oneLine(dump, 2, '--backup-standby does not apply to --engine pg_dump');
    oneLine(noDir, 2, `the standby's data folder ${join(pair.root, 'nowhere')} is not on this machine`);
  }, 60_000);

  it('refuses a standby that receives no WAL', async () => {
    // Without primary_conninfo (reloadable since PostgreSQL 13) the WAL receiver stops.
    // (Put back as it was, not reset: the test helper wrote it (test/helpers/standby.ts).)
    const [{ conninfo }] = await standby<
      Array<{ conninfo: string }>
    >`select current_setting('primary_conninfo') as conninfo`;
    await standby`alter system set primary_conninfo = ''`;
    await standby`select pg_reload_conf()`;
    try {
      await waitUntil('the WAL receiver to stop', 10_000, async () => {
        const [row] = await standby<Array<{ n: number }>>`select count(*)::int as n from pg_stat_wal_receiver`;
        return row!.n === 0;
      });
      oneLine(
        await inProcess(['backup', '--engine', 'pgbackrest', '--backup-standby', '--standby-url', pair.standbyUrl]),
        2,
        'receives no WAL',
      );
    } finally {
      await standby.unsafe(`alter system set primary_conninfo = '${conninfo.replace(/'/g, "''")}'`);
      await standby`select pg_reload_conf()`;
    }
    await waitUntil('the WAL receiver to stream again', 10_000, async () => {
      const [row] = await standby<Array<{ n: number }>>`
        select count(*)::int as n from pg_stat_wal_receiver where status = 'streaming'`;
      return row!.n === 1;
    });
  }, 60_000);

  it('copies the files from the standby, and the backup restores to a point in time', async () => {
    // The binary's embedded default database (restore counts its rows).
    await primary`create database pgstore`;
    const db = open(pair.primaryUrl.replace(/\/postgres\?/, '/pgstore?'));
    try {
      await backUpAndRestore(db);
    } finally {
      await db.end({ timeout: 5 });
    }
  }, 120_000);
});

async function backUpAndRestore(primary: ReturnType<typeof postgres>): Promise<void> {
  {
    await primary`create table kept (id int primary key, batch text not null)`;
    for (let i = 1; i <= 30; i++) await primary`insert into kept values (${i}, 'backed up')`;
    const backedUp = await cli([
      'backup',
      '--engine',
      'pgbackrest',
      '--backup-standby',
      '--standby-url',
      pair.standbyUrl,
      '--json',
    ]);
    expect(backedUp.code, backedUp.stderr).toBe(0);
    const result = JSON.parse(backedUp.stdout);
    expect(schemaProblems('backup', result), 'docs/json-schema/backup.json').toEqual([]);
    const standbyData = embeddedLayout(pair.standby.home, pair.standby.port).dataDir;
    expect(result.standby).toEqual({ host: '127.0.0.1', port: pair.standby.port, dataDir: standbyData });
    expect(result.backup.type).toBe('full');
    // pgBackRest's own record: the manifest keeps the options the backup ran with.
    const manifest = readFileSync(
      join(result.repository, 'backup', result.stanza, result.backup.id, 'backup.manifest'),
      'utf8',
    );
    expect(manifest).toMatch(/^option-backup-standby=true$/m);
    // pgBackRest's log: the primary started the backup, then pgBackRest waited for the standby
    // to replay up to its start before copying (what it does only when it copies from a standby).
    const log = readFileSync(join(result.repository, '..', 'log', `${result.stanza}-backup.log`), 'utf8');
    expect(log).toContain(`--pg2-path=${standbyData}`);
    expect(log).toMatch(/replay on the standby reached [0-9A-F]+\/[0-9A-F]+/);

    // Past the second the backup stopped in, or a target finds no set (pgbackrest-clock.ts).
    await pastBackupStopSecond(result.backup.finishedAt);
    for (let i = 31; i <= 40; i++) await primary`insert into kept values (${i}, 'in WAL')`;
    const [{ at }] = await primary<Array<{ at: string }>>`select clock_timestamp()::text as at`;
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let i = 41; i <= 50; i++) await primary`insert into kept values (${i}, 'after')`;

    const dataDir = join(pair.root, 'restored');
    pair.watch(dataDir);
    const restored = await cli(['restore', '--engine', 'pgbackrest', '--to-time', at, '--data-dir', dataDir, '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    const r = JSON.parse(restored.stdout);
    const copy = open(pair.primaryUrl.replace(`:${pair.primary.port}/postgres?`, `:${r.port}/pgstore?`));
    try {
      await waitUntil('the restored copy to accept writes', 10_000, async () => {
        const [row] = await copy<Array<{ r: boolean }>>`select pg_is_in_recovery() as r`;
        return !row!.r;
      });
      const rows = await copy<Array<{ batch: string; n: number }>>`
        select batch, count(*)::int as n from kept group by batch order by batch`;
      expect(rows).toEqual([
        { batch: 'backed up', n: 30 },
        { batch: 'in WAL', n: 10 },
      ]);
    } finally {
      await copy.end({ timeout: 5 });
    }
  }
}
