/**
 * A real primary and a streaming standby on loopback, for tests of replication: the embedded
 * PostgreSQL 15 binaries (through pgstore's own ensureEmbedded). Both are copies of the run's one
 * initdb (test/helpers/cluster-template.ts); the standby streams through a physical slot, with
 * primary_conninfo and standby.signal as `pg_basebackup -R -C -S <slot>` would write them.
 *
 * One pair per vitest run: test/helpers/standby-setup.ts (a globalSetup) only reserves a folder;
 * the first file that calls standbyPair() starts the pair under a file lock and the other files
 * reuse it. The setup's teardown stops both servers at the end of the run, and each server also
 * stops by itself when the vitest main process dies (a killed run leaves nothing behind).
 *
 * The pair is shared: a file that pauses replay or changes the primary's settings must undo it
 * in a finally (withReplayPaused does), and must not assume it is alone on the primary. A file
 * that must own its pair (it points the archiver somewhere, restarts a server) starts a private
 * one with privateStandbyPair() (same start, its own folder, stopped by its stop()); a file
 * that only needs a standby to stop and start takes pair.ownStandby() (a base backup of the
 * shared primary that streams nothing: no initdb, under a second).
 *
 * Both ends are tuned to keep waits short: the primary flushes asynchronous commits every 10 ms
 * (wal_writer_delay), the standby reports its replay every second (wal_receiver_status_interval).
 */
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';
import { connectionUrl, type EmbeddedTarget, resolveConnection, type ServerConnection } from '../../src/db/config.js';
import { embeddedLayout, ensureEmbedded, serverAccount } from '../../src/db/embedded.js';
import { openPool, withAdminSql, type Db } from '../../src/db/pool.js';
import { binariesReachableBy, locateBinaries } from '../../src/tools/postgres-binaries.js';
import { stopCluster, stopClusterWhenGone } from '../../src/tools/postgres-server.js';
import { runTool } from '../../src/tools/run.js';
import { acquireFileLock } from '../../src/util/file-lock.js';
import { startFromTemplate } from './cluster-template.js';
import { cleanEnv } from './cli.js';
import { serverDataRoot } from './server-info.js';
import { PAIR_FILE, type PairInfo, pairTargets, SLOT_NAME, STANDBY_NAME, type StandbyRoot } from './standby-layout.js';
import { freePort } from './free-port.js';

export interface StandbyPair {
  /** Superuser URL of the primary's `postgres` database. */
  primaryUrl: string;
  /** Superuser URL of the standby's `postgres` database (read-only). */
  standbyUrl: string;
  /** Pools on both (closed after the file). */
  primary: Db;
  standby: Db;
  /** The physical slot the standby streams through, and its application_name. */
  slotName: string;
  standbyName: string;
  /** Seconds the pair took to start, when this file started it (0 when it was reused). */
  startSeconds: number;
  /** Waits until the standby has replayed the primary's current WAL position (bounded). */
  waitForReplay(timeoutMs?: number): Promise<void>;
  /** Pauses replay on the standby (WAL is still received) and waits until it is paused; prefer withReplayPaused. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Pauses replay around `fn`, resuming even when it throws; one file at a time (a lock). */
  withReplayPaused<T>(fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` while no other file pauses replay (or runs another `exclusive`): the pair's lock. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** The same URL with another database. */
  urlFor(which: 'primary' | 'standby', database: string): string;
  /**
   * A standby of this primary that is the calling file's own, to stop and start (no initdb: a
   * base backup, under a second). It replays what it copied and streams nothing, so it is not
   * one of the primary's replicas (health on the shared primary still sees one).
   */
  ownStandby(): Promise<OwnStandby>;
}

export interface OwnStandby {
  target: EmbeddedTarget;
  /** Superuser URL (with the password) of its `postgres` database. */
  url: string;
  /** Stops it (immediate mode) and removes its folder. */
  stop(): Promise<void>;
}

/** The pair's primary's postgresql.conf lines (the standby gets them too, as pg_basebackup copied them). */
const PRIMARY_SETTINGS = [
  'fsync = off',
  'full_page_writes = off',
  'synchronous_commit = off',
  'archive_mode = on',
  "archive_command = 'true'",
  'wal_sender_timeout = 5000',
  // Commits are asynchronous: the WAL writer flushes them (and the standby then receives
  // them) every wal_writer_delay, 200 ms by default. 10 ms keeps the replica a few ms
  // behind, so a test waiting for replay (or racing it) waits that much, not 200 ms.
  'wal_writer_delay = 10',
];

/** What a standby adds (the pair's, and ownStandby's copy made by pg_basebackup). */
const STANDBY_SETTINGS = [
  `cluster_name = '${STANDBY_NAME}'`,
  'hot_standby_feedback = on',
  // Tell the primary what was replayed every second (10 s by default), so pg_stat_replication
  // (health on the primary) sees replay move, or stop, within a second.
  'wal_receiver_status_interval = 1',
];

const START_TIMEOUT_MS = 120_000;
const POLL_MS = 10;

/** Polls `check` until it returns true, failing with `what` after `timeoutMs`. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function startPair(info: StandbyRoot): Promise<PairInfo> {
  const started = performance.now();
  const ports = { primary: await freePort(), standby: await freePort() };
  const [primaryTarget, standbyTarget] = pairTargets(info, ports);
  // The primary (a copy of the run's initdb: cluster-template.ts): archiving on (with an
  // archive_command that succeeds and keeps nothing) so a test can make the archiver fail, fsync
  // off as in global-setup; in postgresql.conf before its first start, so archive_mode needs no
  // restart (and a test's `alter system reset` falls back to these).
  const conn = await startFromTemplate(primaryTarget, {
    stopWhenProcessDies: info.ownerPid,
    settings: PRIMARY_SETTINGS,
  });

  // The standby: another copy of the same initdb (same system identifier, timeline and
  // checkpoint), streaming from the primary through a slot made before it starts (reserved from
  // the checkpoint it replays from). No pg_basebackup: ~0.15 s of CPU less per pair.
  await withAdminSql(conn, (sql) => sql`select pg_create_physical_replication_slot(${SLOT_NAME}, true)`);
  const primaryConninfo = `host=127.0.0.1 port=${ports.primary} user=${conn.user} password=${conn.password} application_name=${STANDBY_NAME}`;
  await startFromTemplate(standbyTarget, {
    standby: true,
    stopWhenProcessDies: info.ownerPid,
    settings: [
      `primary_conninfo = '${primaryConninfo.replace(/'/g, "''")}'`,
      `primary_slot_name = '${SLOT_NAME}'`,
      ...PRIMARY_SETTINGS,
      ...STANDBY_SETTINGS,
    ],
  });
  return {
    primaryPort: ports.primary,
    standbyPort: ports.standby,
    password: conn.password!,
    startSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

/**
 * A standby of the primary on `primary.port`, made by pg_basebackup as the server account into
 * `target.home`, and started. It only replays the backup's WAL (standby.signal, no
 * primary_conninfo: in recovery, connected to nothing).
 */
async function startStandby(
  target: EmbeddedTarget,
  primary: { port: number; user: string; password: string },
  options: { ownerPid: number },
): Promise<void> {
  const account = serverAccount({ PGSTORE_SERVER_USER: target.serverUser });
  mkdirSync(target.home, { mode: 0o700 });
  if (account) chownSync(target.home, account.uid, account.gid);
  const layout = embeddedLayout(target.home, target.port);
  const result = await runTool(
    'pg_basebackup',
    [
      '-d',
      // (It keeps pg_basebackup's own name while it copies: health leaves that out of the
      // primary's replicas.)
      `host=127.0.0.1 port=${primary.port} user=${primary.user}`,
      '-D',
      layout.dataDir,
      '-X',
      'stream',
      '-c',
      'fast',
      '--no-sync',
    ],
    {
      env: { PGPASSWORD: primary.password },
      uid: account?.uid,
      gid: account?.gid,
      cwd: target.home,
      timeoutMs: 60_000,
      allowFailure: true,
      tailLines: 6,
    },
  );
  if (result.failed)
    throw new Error(
      `pg_basebackup failed (exit ${result.exitCode}${result.timedOut ? ', timed out' : ''}): ${result.stderr}`,
    );
  writeFileSync(join(layout.dataDir, 'standby.signal'), '');
  if (account) chownSync(join(layout.dataDir, 'standby.signal'), account.uid, account.gid);
  // Its own port and socket folder (the copied postgresql.conf names the primary's).
  appendFileSync(
    join(layout.dataDir, 'postgresql.conf'),
    [
      '',
      '# Added by the test helper: a standby of the test primary.',
      `port = ${target.port}`,
      `unix_socket_directories = '${layout.socketDir}'`,
      ...STANDBY_SETTINGS,
      '',
    ].join('\n'),
  );
  writeFileSync(layout.passwordFile, `${primary.password}\n`, { mode: 0o600 });
  await ensureEmbedded(target, { stopWhenProcessDies: options.ownerPid });
}

/** Starts the run's pair (or finds the one another file started). */
async function ensurePair(): Promise<PairInfo & { startedHere: boolean }> {
  const info = inject('standbyRoot');
  const pairFile = join(info.root, PAIR_FILE);
  const lock = await acquireFileLock(join(info.root, 'start.lock'), {
    purpose: 'the test primary + standby start',
    waitMs: START_TIMEOUT_MS,
  });
  try {
    if (existsSync(pairFile))
      return { ...(JSON.parse(readFileSync(pairFile, 'utf8')) as PairInfo), startedHere: false };
    const pair = await startPair(info);
    writeFileSync(pairFile, JSON.stringify(pair));
    return { ...pair, startedHere: true };
  } finally {
    await lock.release();
  }
}

/**
 * The run's primary + standby (started on first use), with pools closed after this file.
 * Call it in beforeAll (its start takes a few seconds, within the hook timeout).
 */
export async function standbyPair(): Promise<StandbyPair> {
  const pair = await ensurePair();
  const connOf = (port: number, database = 'postgres'): ServerConnection => ({
    ...(resolveConnection({
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/${database}?sslmode=disable`,
      env: {},
    }) as ServerConnection),
    password: pair.password,
  });
  const primaryConn = connOf(pair.primaryPort);
  const standbyConn = connOf(pair.standbyPort);
  const primary = await openPool(primaryConn, { max: 2 });
  const standby = await openPool(standbyConn, { max: 2 });
  afterAll(async () => {
    await primary.end({ timeout: 5 });
    await standby.end({ timeout: 5 });
  });
  const replayed = async (lsn: string) => {
    const [row] = await standby<
      { done: boolean }[]
    >`select coalesce(pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn, false) as done`;
    return row!.done;
  };
  const api: StandbyPair = {
    primaryUrl: connectionUrl(primaryConn),
    standbyUrl: connectionUrl(standbyConn),
    primary,
    standby,
    slotName: SLOT_NAME,
    standbyName: STANDBY_NAME,
    startSeconds: pair.startedHere ? pair.startSeconds : 0,
    urlFor: (which, database) =>
      connectionUrl(connOf(which === 'primary' ? pair.primaryPort : pair.standbyPort, database)),
    async ownStandby() {
      const root = mkdtempSync(join(serverDataRoot(), 'pgstore-own-standby-'));
      chmodSync(root, 0o711);
      const serverUser = inject('standbyRoot').serverUser;
      const port = await freePort();
      const target: EmbeddedTarget = { ...pairTargets({ root, ownerPid: process.pid, serverUser })[1], port };
      const stop = async () => {
        const account = serverAccount({ PGSTORE_SERVER_USER: serverUser });
        const dataDir = embeddedLayout(target.home, port).dataDir;
        const binaries = binariesReachableBy(locateBinaries(), account, root);
        if (existsSync(dataDir))
          await stopCluster({ binaries, dataDir, logFile: join(dataDir, 'stop.log'), account }, 'immediate').catch(
            () => undefined,
          );
        await rm(root, { recursive: true, force: true });
      };
      try {
        await startStandby(
          target,
          { port: pair.primaryPort, user: 'postgres', password: pair.password },
          { ownerPid: process.pid },
        );
      } catch (error) {
        await stop();
        throw error;
      }
      return { target, url: connectionUrl(connOf(port)), stop };
    },
    async waitForReplay(timeoutMs = 15_000) {
      // The pair's primary commits asynchronously (as the suite's server does), so recent
      // commits may not be flushed yet. A commit with synchronous_commit on flushes every WAL
      // record before it, but only if the transaction wrote WAL (a bare txid_current() commit
      // is asynchronous: RecordTransactionCommit's wrote_xlog), hence the logical message.
      await primary.begin(async (tx) => {
        await tx`set local synchronous_commit = on`;
        await tx`select pg_logical_emit_message(true, 'pgstore-test', 'replay barrier')`;
      });
      const [row] = await primary<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
      await waitUntil(`the standby to replay ${row!.lsn}`, timeoutMs, () => replayed(row!.lsn));
    },
    async pauseReplay() {
      await standby`select pg_wal_replay_pause()`;
      await waitUntil('replay to pause', 10_000, async () => {
        const [row] = await standby<{ state: string }[]>`select pg_get_wal_replay_pause_state() as state`;
        return row!.state === 'paused';
      });
    },
    async resumeReplay() {
      await standby`select pg_wal_replay_resume()`;
    },
    async withReplayPaused(fn) {
      // One file at a time: another's resume must not end this pause halfway.
      return api.exclusive(async () => {
        await api.pauseReplay();
        try {
          return await fn();
        } finally {
          await api.resumeReplay();
        }
      });
    },
    async exclusive(fn) {
      // Files run side by side (three at a time): what depends on replay running (or paused)
      // holds the pair's lock, so no other file pauses it meanwhile.
      const lock = await acquireFileLock(join(inject('standbyRoot').root, 'replay-pause.lock'), {
        purpose: 'using the test standby alone',
        waitMs: 120_000,
      });
      try {
        return await fn();
      } finally {
        await lock.release();
      }
    },
  };
  return api;
}

/** A pair of a test file's own: the same start as the shared one, in its own folder. */
export interface PrivateStandbyPair {
  root: string;
  primary: EmbeddedTarget;
  standby: EmbeddedTarget;
  /** Superuser URLs (with the password) of each one's `postgres` database. */
  primaryUrl: string;
  standbyUrl: string;
  startSeconds: number;
  /** The binary's environment: the primary as the embedded default, backups under root/backups. */
  env: Record<string, string>;
  /** Stops a cluster started from another data folder (a restored copy) at stop(), or when the test process dies. */
  watch(dataDir: string): void;
  /** Stops the watched clusters, the standby and the primary (immediate mode), and removes the folder. */
  stop(): Promise<void>;
}

/**
 * Starts a private primary + streaming standby (a few seconds). Both servers, and any data
 * folder passed to watch(), stop by themselves if the test process dies; call stop() in afterAll.
 */
export async function privateStandbyPair(): Promise<PrivateStandbyPair> {
  const root = mkdtempSync(join(serverDataRoot(), 'pgstore-own-pair-'));
  chmodSync(root, 0o711);
  const info: StandbyRoot = { root, ownerPid: process.pid, serverUser: process.env.PGSTORE_SERVER_USER };
  const others: string[] = [];
  const account = serverAccount({ PGSTORE_SERVER_USER: info.serverUser });
  const binaries = binariesReachableBy(locateBinaries(), account, root);
  const paths = (dataDir: string) => ({ binaries, dataDir, logFile: join(dataDir, 'stop.log'), account });
  let targets = pairTargets(info);
  // Everything is thrown away: all at once, in immediate mode (no shutdown checkpoints).
  const stop = async () => {
    const dataDirs = [...others, ...targets.map((t) => embeddedLayout(t.home, t.port).dataDir)];
    await Promise.all(
      dataDirs
        .filter((dir) => existsSync(dir))
        .map((dir) => stopCluster(paths(dir), 'immediate').catch(() => undefined)),
    );
    await rm(root, { recursive: true, force: true });
  };
  let pair: PairInfo;
  try {
    pair = await startPair(info);
  } catch (error) {
    await stop();
    throw error;
  }
  targets = pairTargets(info, { primary: pair.primaryPort, standby: pair.standbyPort });
  const url = (port: number) =>
    `postgres://postgres:${encodeURIComponent(pair.password)}@127.0.0.1:${port}/postgres?sslmode=disable`;
  return {
    root,
    primary: targets[0],
    standby: targets[1],
    primaryUrl: url(pair.primaryPort),
    standbyUrl: url(pair.standbyPort),
    startSeconds: pair.startSeconds,
    env: cleanEnv({
      PGSTORE_HOME: targets[0].home,
      PGSTORE_PORT: String(pair.primaryPort),
      PGSTORE_BACKUP_DIR: join(root, 'backups'),
    }),
    watch(dataDir) {
      others.push(dataDir);
      stopClusterWhenGone(paths(dataDir), process.pid);
    },
    stop,
  };
}
