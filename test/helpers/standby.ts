/**
 * A real primary and a streaming standby on loopback, for tests of replication: the embedded
 * PostgreSQL 15 binaries (through pgstore's own ensureEmbedded) plus Debian's pg_basebackup
 * (`pg_basebackup -R -X stream -C -S <slot>`).
 *
 * One pair per vitest run: test/helpers/standby-setup.ts (a globalSetup) only reserves a folder;
 * the first file that calls standbyPair() starts the pair under a file lock and the other files
 * reuse it. The setup's teardown stops both servers at the end of the run, and each server also
 * stops by itself when the vitest main process dies (a killed run leaves nothing behind).
 *
 * The pair is shared: a file that pauses replay or changes the primary's settings must undo it
 * in a finally (withReplayPaused does), and must not assume it is alone on the primary. A file
 * that must own its pair (it points the archiver somewhere, restarts a server) starts a private
 * one with privateStandbyPair() (same start, its own folder, stopped by its stop()).
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
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, inject } from 'vitest';
import { connectionUrl, type EmbeddedTarget, resolveConnection, type ServerConnection } from '../../src/db/config.js';
import { embeddedLayout, ensureEmbedded, serverAccount, stopEmbedded } from '../../src/db/embedded.js';
import { openPool, withAdminSql, type Db } from '../../src/db/pool.js';
import { binariesReachableBy, locateBinaries } from '../../src/tools/postgres-binaries.js';
import { stopCluster, stopClusterWhenGone } from '../../src/tools/postgres-server.js';
import { runTool } from '../../src/tools/run.js';
import { acquireFileLock } from '../../src/util/file-lock.js';
import { cleanEnv } from './cli.js';
import { serverDataRoot } from './server-info.js';
import { PAIR_FILE, type PairInfo, pairTargets, SLOT_NAME, STANDBY_NAME, type StandbyRoot } from './standby-layout.js';

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
}

const START_TIMEOUT_MS = 120_000;
const POLL_MS = 25;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

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
  const account = serverAccount({ PGSTORE_SERVER_USER: info.serverUser });
  // The primary: archiving on (with an archive_command that succeeds and keeps nothing) so a
  // test can make the archiver fail; archive_mode needs a restart, fsync off as in global-setup.
  let conn = await ensureEmbedded(primaryTarget);
  await withAdminSql(conn, async (sql) => {
    for (const setting of [
      'fsync = off',
      'full_page_writes = off',
      'synchronous_commit = off',
      'archive_mode = on',
      "archive_command = 'true'",
      'wal_sender_timeout = 5000',
    ])
      await sql.unsafe(`alter system set ${setting}`);
  });
  await stopEmbedded(primaryTarget);
  // (Watched from this start on; the first one lasts a moment, and the setup's teardown stops it.)
  conn = await ensureEmbedded(primaryTarget, { stopWhenProcessDies: info.ownerPid });

  // The standby: a base backup of the primary, as the server account, writing primary_conninfo
  // and standby.signal (-R) and creating its physical slot (-C -S).
  mkdirSync(standbyTarget.home, { mode: 0o700 });
  if (account) chownSync(standbyTarget.home, account.uid, account.gid);
  const standbyLayout = embeddedLayout(standbyTarget.home, ports.standby);
  const result = await runTool(
    'pg_basebackup',
    [
      '-d',
      `host=127.0.0.1 port=${ports.primary} user=${conn.user} application_name=${STANDBY_NAME}`,
      '-D',
      standbyLayout.dataDir,
      '-R',
      '-X',
      'stream',
      '-C',
      '-S',
      SLOT_NAME,
      '-c',
      'fast',
      '--no-sync',
    ],
    {
      env: { PGPASSWORD: conn.password },
      uid: account?.uid,
      gid: account?.gid,
      cwd: standbyTarget.home,
      timeoutMs: 60_000,
      allowFailure: true,
      tailLines: 6,
    },
  );
  if (result.failed)
    throw new Error(
      `pg_basebackup failed (exit ${result.exitCode}${result.timedOut ? ', timed out' : ''}): ${result.stderr}`,
    );
  // Its own port and socket folder (the copied postgresql.conf names the primary's).
  appendFileSync(
    join(standbyLayout.dataDir, 'postgresql.conf'),
    [
      '',
      '# Added by the test helper: the standby of the pair.',
      `port = ${ports.standby}`,
      `unix_socket_directories = '${standbyLayout.socketDir}'`,
      `cluster_name = '${STANDBY_NAME}'`,
      'hot_standby_feedback = on',
      '',
    ].join('\n'),
  );
  writeFileSync(standbyLayout.passwordFile, `${conn.password}\n`, { mode: 0o600 });
  await ensureEmbedded(standbyTarget, { stopWhenProcessDies: info.ownerPid });
  return {
    primaryPort: ports.primary,
    standbyPort: ports.standby,
    password: conn.password!,
    startSeconds: Math.round((performance.now() - started) / 100) / 10,
  };
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
