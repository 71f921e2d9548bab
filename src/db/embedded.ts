/**
 * pgstore's embedded PostgreSQL: a private cluster under $PGSTORE_HOME, created on first use,
 * started on demand and left running. It listens on 127.0.0.1 and a private socket folder,
 * with scram-sha-256 password auth; the generated password lives in a 0600 file.
 * As root, the server runs as an existing unprivileged account (default `postgres`).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeDirs } from '../util/make-dirs.js';
import { ConfigError, ConflictError, ConnectionError, EmbeddedServerError } from '../errors.js';
import { type Account, findAccount, firstUnreachable, isRoot } from '../tools/accounts.js';
import { binariesReachableBy, locateBinaries } from '../tools/postgres-binaries.js';
import {
  type ClusterPaths,
  initCluster,
  startCluster,
  stopCluster,
  stopClusterWhenGone,
} from '../tools/postgres-server.js';
import { assertPortFree } from './embedded-port.js';
import { acquireFileLock, processAlive } from '../util/file-lock.js';
import { EMBEDDED_USER, type EmbeddedTarget, type ServerConnection } from './config.js';
import { withAdminSql } from './driver.js';
import { registerSecret } from '../util/redact.js';
import { createNewFile, writeFileAtomic } from '../util/atomic-file.js';

export interface EmbeddedLayout {
  home: string;
  dataDir: string;
  logFile: string;
  passwordFile: string;
  lockFile: string;
  socketDir: string;
}

export interface EmbeddedStatus {
  home: string;
  dataDir: string;
  logFile: string;
  initialized: boolean;
  running: boolean;
  pid: number | undefined;
  port: number | undefined;
  socketDir: string;
  /** Major version of the cluster's data (PG_VERSION). */
  dataVersion: string | undefined;
  /** Seconds since the server started. */
  uptimeSeconds: number | undefined;
}

export interface EnsureOptions {
  /** Create and start the server when it is not running (default true; health says false). */
  start?: boolean;
  /** Stop the server when this process dies (the test harness uses it). */
  stopWhenProcessDies?: number;
  /** Called with progress messages ("Creating the embedded cluster..."). */
  log?: (message: string) => void;
}

/** Where everything of the embedded server lives under its home folder. */
export function embeddedLayout(home: string, port: number): EmbeddedLayout {
  const runDir = join(home, 'run');
  // Unix socket paths are limited to 107 bytes; fall back to a short private folder.
  const socketDir =
    join(runDir, `.s.PGSQL.${port}`).length <= 100
      ? runDir
      : join(tmpdir(), `pgstore-${createHash('sha256').update(home).digest('hex').slice(0, 12)}`);
  return {
    home,
    dataDir: join(home, 'data'),
    logFile: join(home, 'log', 'postgresql.log'),
    passwordFile: join(home, 'password'),
    lockFile: join(home, 'start.lock'),
    socketDir,
  };
}

/** The account the server runs as: the current one, or (as root) an unprivileged one. */
export function serverAccount(env: Record<string, string | undefined>): Account | undefined {
  if (!isRoot()) return undefined;
  const name = env.PGSTORE_SERVER_USER || 'postgres';
  const account = findAccount(name);
  if (!account) {
    throw new ConfigError(
      [`running as root, the embedded server needs an unprivileged account, and there is no account named '${name}'`],
      {
        hint: 'Create one (e.g. `useradd --system --home-dir /var/lib/postgresql postgres`), set PGSTORE_SERVER_USER to an existing one, or run pgstore as a normal user.',
      },
    );
  }
  if (account.uid === 0) {
    throw new ConfigError([`PGSTORE_SERVER_USER '${name}' is root; PostgreSQL refuses to run as root`], {
      hint: 'Name an unprivileged account.',
    });
  }
  return account;
}

/** Reads postmaster.pid: is the server up, on which port and socket folder. Never spawns. */
export function embeddedStatus(target: EmbeddedTarget): EmbeddedStatus {
  const layout = embeddedLayout(target.home, target.port);
  const status: EmbeddedStatus = {
    home: layout.home,
    dataDir: layout.dataDir,
    logFile: layout.logFile,
    initialized: existsSync(join(layout.dataDir, 'PG_VERSION')),
    running: false,
    pid: undefined,
    port: undefined,
    socketDir: layout.socketDir,
    dataVersion: undefined,
    uptimeSeconds: undefined,
  };
  if (!status.initialized) return status;
  status.dataVersion = readFileSync(join(layout.dataDir, 'PG_VERSION'), 'utf8').trim();
  let lines: string[];
  try {
    lines = readFileSync(join(layout.dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return status;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return status;
  status.pid = pid;
  status.port = Number(lines[3]) || undefined;
  status.socketDir = lines[4]?.trim() || layout.socketDir;
  status.uptimeSeconds = Math.max(0, Math.round(Date.now() / 1000 - Number(lines[2])));
  // postmaster.pid's status line: "ready" on a primary, "standby" on a hot standby (both serve).
  status.running = ['ready', 'standby'].includes((lines[7] ?? '').trim());
  return status;
}

/** The connection to the embedded server on `port`, with the password from its file. */
export function embeddedConnection(target: EmbeddedTarget, port: number): ServerConnection {
  const layout = embeddedLayout(target.home, port);
  const password = readFileSync(layout.passwordFile, 'utf8').trim();
  registerSecret(password);
  return {
    kind: 'server',
    source: 'embedded',
    host: '127.0.0.1',
    port,
    user: EMBEDDED_USER,
    password,
    database: target.database,
    sslmode: 'disable',
    params: {},
    pool: target.pool,
  };
}

/**
 * The pre-check of a new home's port. A concurrent pgstore may have created this very cluster
 * and started its server since the home was read (commands started at once on a fresh clone):
 * its server holds the port, and this run must wait for that start (the lock below), not report
 * "another program". A sibling also probes the port under the start lock by binding it for an
 * instant (assertPortFree's bind), before its cluster exists: a probe here that meets that
 * listener is accepted, refused or reset. So a busy port is probed again a few times, 50-150 ms
 * apart: a program that holds the port still holds it then. Seen under load:
 * test/stress/embedded-start.test.ts.
 */
async function assertPortFreeUnlessSiblingStarted(target: EmbeddedTarget): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await assertPortFree(target.port);
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      if (embeddedStatus(target).initialized) return;
      if (attempt >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

/** Starts the embedded server if it is not running (creating it first if needed). */
export async function ensureEmbedded(target: EmbeddedTarget, options: EnsureOptions = {}): Promise<ServerConnection> {
  const now = embeddedStatus(target);
  if (now.running && now.port) return embeddedConnection(target, now.port);
  if (options.start === false) {
    throw new ConnectionError(`the embedded server is not running (${target.home}, port ${target.port})`, {
      hint: 'Start it with `pgstore server start` (this command does not start it).',
    });
  }

  // Before anything is created: a busy port must not leave a new cluster behind (issue 15).
  if (!now.initialized) await assertPortFreeUnlessSiblingStarted(target);
  const account = serverAccount({ PGSTORE_SERVER_USER: target.serverUser });
  prepareHome(target.home, account);
  const layout = embeddedLayout(target.home, target.port);
  const lock = await acquireFileLock(layout.lockFile, { purpose: 'the embedded server start', waitMs: 180_000 });
  try {
    const again = embeddedStatus(target);
    if (again.running && again.port) return embeddedConnection(target, again.port);
    const binaries = binariesReachableBy(locateBinaries(target.binaries), account, target.home);
    const paths: ClusterPaths = { binaries, dataDir: layout.dataDir, logFile: layout.logFile, account };
    if (!again.initialized) {
      // Bound and not listening (or below 1024 for a normal user): refused before a cluster is made.
      await assertPortFree(target.port, { bind: true });
      options.log?.(`Creating the embedded PostgreSQL cluster in ${layout.dataDir}...`);
      await createCluster(paths, layout, account, target.port);
    }
    await assertPortFree(target.port, { bind: true });
    ensureOwnedDir(layout.socketDir, account);
    ensureOwnedDir(dirname(layout.logFile), account);
    options.log?.(`Starting the embedded PostgreSQL server on 127.0.0.1:${target.port}...`);
    await startCluster(paths, target.port);
    if (options.stopWhenProcessDies) stopClusterWhenGone(paths, options.stopWhenProcessDies);
    if (!again.initialized) await createDefaultDatabase(target);
  } finally {
    await lock.release();
  }
  return embeddedConnection(target, target.port);
}

/** Stops the embedded server if it runs; says whether it was running. */
export async function stopEmbedded(target: EmbeddedTarget): Promise<boolean> {
  const status = embeddedStatus(target);
  if (!status.pid) return false;
  const account = serverAccount({ PGSTORE_SERVER_USER: target.serverUser });
  const binaries = binariesReachableBy(locateBinaries(target.binaries), account, target.home);
  await stopCluster({ binaries, dataDir: status.dataDir, logFile: status.logFile, account });
  return true;
}

/** Free space on the file system holding the embedded data folder. */
export function embeddedDiskUsage(target: EmbeddedTarget): { freeBytes: number; totalBytes: number } {
  const stats = statfsSync(existsSync(target.home) ? target.home : dirname(target.home));
  return { freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
}

function prepareHome(home: string, account: Account | undefined): void {
  if (account) {
    // The home itself is made enterable below; its parents must already be.
    const blocked = firstUnreachable(dirname(home), account);
    if (blocked) {
      throw new ConfigError(
        [`the server account '${account.name}' cannot enter ${blocked}, so it cannot reach PGSTORE_HOME ${home}`],
        {
          hint: 'Set PGSTORE_HOME to a folder whose parents it can enter, e.g. /var/lib/pgstore (the default for root).',
        },
      );
    }
  }
  makeDirs(home, account ? 0o711 : 0o700);
  // As root the home is entered (not listed) by the server account; its secrets stay 0600.
  chmodSync(home, account ? 0o711 : 0o700);
}

function ensureOwnedDir(dir: string, account: Account | undefined): void {
  // Never adopt a folder someone else planted (the socket folder may live under /tmp).
  const existing = lstatSync(dir, { throwIfNoEntry: false });
  if (
    existing &&
    (existing.isSymbolicLink() || !existing.isDirectory() || ![process.getuid?.(), account?.uid].includes(existing.uid))
  ) {
    throw new EmbeddedServerError(
      `${dir} exists but is not a folder of ours (a link, a file, or owned by uid ${existing.uid})`,
      {
        hint: 'Remove it, or set PGSTORE_HOME to a shorter path so the socket folder lives inside it.',
      },
    );
  }
  makeDirs(dir, 0o700);
  // Owner and mode through a descriptor opened without following a symlink: one swapped in
  // after the check above (under /tmp anyone can try) is refused, never chown-ed through.
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const info = fstatSync(fd);
    if (![process.getuid?.(), account?.uid].includes(info.uid)) {
      throw new EmbeddedServerError(`${dir} is not a folder of ours (owned by uid ${info.uid})`, {
        hint: 'Remove it, or set PGSTORE_HOME elsewhere.',
      });
    }
    if (account) fchownSync(fd, account.uid, account.gid);
    fchmodSync(fd, 0o700);
  } finally {
    closeSync(fd);
  }
}

async function createCluster(
  paths: ClusterPaths,
  layout: EmbeddedLayout,
  account: Account | undefined,
  port: number,
): Promise<void> {
  rmSync(layout.dataDir, { recursive: true, force: true });
  ensureOwnedDir(layout.dataDir, account);
  ensureOwnedDir(layout.socketDir, account);
  ensureOwnedDir(dirname(layout.logFile), account);
  const password = existsSync(layout.passwordFile)
    ? readFileSync(layout.passwordFile, 'utf8').trim()
    : randomBytes(24).toString('base64url');
  // Mode and owner are set on the open file, never by path (a symlink raced into place would be followed).
  writeFileAtomic(layout.passwordFile, `${password}\n`, 0o600, { exactMode: true });
  // initdb reads the password from a file the server account can read; removed right after.
  const pwfile = join(layout.socketDir, 'initdb.pw');
  rmSync(pwfile, { force: true });
  const pwFd = createNewFile(pwfile, 0o600, true);
  try {
    writeSync(pwFd, password);
    if (account) fchownSync(pwFd, account.uid, account.gid);
  } finally {
    closeSync(pwFd);
  }
  try {
    await initCluster(paths, EMBEDDED_USER, pwfile);
  } catch (error) {
    rmSync(layout.dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(pwfile, { force: true });
  }
  appendFileSync(
    join(layout.dataDir, 'postgresql.conf'),
    [
      '',
      '# Added by pgstore: local connections only, through TCP on 127.0.0.1 and a private socket folder.',
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = '${layout.socketDir.replace(/'/g, "''")}'`,
      'unix_socket_permissions = 0700',
      "password_encryption = 'scram-sha-256'",
      '',
    ].join('\n'),
  );
}

async function createDefaultDatabase(target: EmbeddedTarget): Promise<void> {
  await withAdminSql(embeddedConnection(target, target.port), async (sql) => {
    const [row] = await sql`select 1 from pg_database where datname = ${target.database}`;
    if (!row) await sql.unsafe(`create database "${target.database.replace(/"/g, '""')}"`);
  });
}
