/**
 * One initdb per vitest run for the tests' own clusters (issue 13): initdb costs ~0.5 s of CPU,
 * a copy of its result ~40 ms. The first file that needs a new cluster (the run's standby pair,
 * a private pair, pgBackRest's private server) runs initdb into the run's folder (standby-setup.ts
 * reserves it and removes it at the end) under a file lock; every cluster is then a copy of it,
 * given the lines pgstore's own cluster creation appends to postgresql.conf (src/db/embedded.ts,
 * createCluster) plus the caller's settings, and started by pgstore's ensureEmbedded, which sees
 * an initialized cluster and only starts it. Settings given here are in place at the first start:
 * no restart for archive_mode.
 *
 * Across runs: the template is also kept in node_modules/.cache/pgstore-test/initdb-<key>, the
 * key a hash of the server binaries (path, size, time), the server account and the sources that
 * shape it (this file, initCluster's, the password verifier's). A run then copies it instead of
 * running initdb, and the shared test server (global-setup.ts) starts from it too: ~0.4 s less
 * before the first test file. A fresh clone's first run makes it.
 */
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { EMBEDDED_USER, type EmbeddedTarget, type ServerConnection } from '../../src/db/config.js';
import { embeddedLayout, ensureEmbedded, serverAccount } from '../../src/db/embedded.js';
import { withAdminSql } from '../../src/db/pool.js';
import { binariesReachableBy, locateBinaries } from '../../src/tools/postgres-binaries.js';
import { initCluster } from '../../src/tools/postgres-server.js';
import { runTool } from '../../src/tools/run.js';
import { acquireFileLock } from '../../src/util/file-lock.js';
import { cheapScramVerifier } from './scram-verifier.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The template an earlier run kept (see the top of this file), if there is one. */
export function cachedTemplate(serverUser: string | undefined): { dataDir: string; password: string } | undefined {
  return readKept(cacheDir(serverUser));
}

function readKept(cache: string): { dataDir: string; password: string } | undefined {
  if (!existsSync(join(cache, 'data', 'PG_VERSION')) || !existsSync(join(cache, 'password'))) return undefined;
  return { dataDir: join(cache, 'data'), password: readFileSync(join(cache, 'password'), 'utf8').trim() };
}

/** `cp -a`: the server account's ownership and the data folder's 0700 kept. */
function copyTree(from: string, to: string) {
  return runTool('cp', ['-a', from, to], { allowFailure: true, timeoutMs: 60_000 });
}

/** The server build of this run: the version matrix (scripts/version-matrix.js) names another major's. */
function runBinaries() {
  return locateBinaries(process.env.PGSTORE_TEST_PG_ROOT || undefined);
}

function cacheDir(serverUser: string | undefined): string {
  const binaries = runBinaries();
  const identity = [binaries.root, binaries.initdb, binaries.postgres].map((file) => {
    const info = statSync(file);
    return `${file}:${info.size}:${info.mtimeMs}`;
  });
  const sources = [
    'test/helpers/cluster-template.ts',
    'test/helpers/scram-verifier.ts',
    'src/tools/postgres-server.ts',
  ].map((file) => readFileSync(join(ROOT, file), 'utf8'));
  const key = createHash('sha256')
    .update(JSON.stringify([identity, binaries.packageVersion, serverUser ?? '', process.getuid?.() ?? -1, sources]))
    .digest('hex')
    .slice(0, 16);
  return join(ROOT, 'node_modules', '.cache', 'pgstore-test', `initdb-${key}`);
}

/** Keeps the run's template in `cache` for the next runs (best effort: a copy, then a rename into place). */
async function keepTemplate(dir: string, cache: string): Promise<void> {
  if (existsSync(cache)) return;
  const partial = `${cache}.partial-${process.pid}`;
  mkdirSync(partial, { recursive: true, mode: 0o711 });
  const copied = await copyTree(join(dir, 'data'), join(partial, 'data'));
  writeFileSync(join(partial, 'password'), readFileSync(join(dir, 'password')), { mode: 0o600 });
  try {
    if (!copied.failed) renameSync(partial, cache);
  } catch {
    // another run kept one first
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  // Templates of other binaries or sources are not used again (40 MB each).
  const parent = dirname(cache);
  for (const old of readdirSync(parent)) {
    if (/^initdb-[0-9a-f]{16}$/.test(old) && join(parent, old) !== cache)
      rmSync(join(parent, old), { recursive: true, force: true });
  }
}

/** The run's initdb'd (never started) cluster, made on first use: its data folder and superuser password. */
async function template(serverUser: string | undefined): Promise<{ dataDir: string; password: string }> {
  const dir = join(inject('standbyRoot').root, 'initdb-template');
  const dataDir = join(dir, 'data');
  const passwordFile = join(dir, 'password');
  const account = serverAccount({ PGSTORE_SERVER_USER: serverUser });
  const lock = await acquireFileLock(join(inject('standbyRoot').root, 'initdb-template.lock'), {
    purpose: 'the tests’ initdb template',
    waitMs: 120_000,
  });
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      mkdirSync(dir, { recursive: true, mode: 0o711 });
      if (account) chownSync(dir, account.uid, account.gid);
      const cache = cacheDir(serverUser);
      const cached = readKept(cache);
      if (cached) {
        const copied = await copyTree(cached.dataDir, dataDir);
        if (copied.failed) throw new Error(`copying the cached initdb template failed: ${copied.stderr}`);
        writeFileSync(passwordFile, cached.password, { mode: 0o600 });
      } else {
        const password = `t${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
        const pwfile = join(dir, 'initdb.pw');
        // initdb stores a verifier as it is: one that is cheap for clients (scram-verifier.ts).
        writeFileSync(pwfile, cheapScramVerifier(password), { mode: 0o600 });
        if (account) chownSync(pwfile, account.uid, account.gid);
        const binaries = binariesReachableBy(runBinaries(), account, dir);
        await initCluster({ binaries, dataDir, logFile: join(dir, 'initdb.log'), account }, EMBEDDED_USER, pwfile);
        rmSync(pwfile, { force: true });
        writeFileSync(passwordFile, password, { mode: 0o600 });
        await keepTemplate(dir, cache);
      }
    }
  } finally {
    await lock.release();
  }
  return { dataDir, password: readFileSync(passwordFile, 'utf8').trim() };
}

/**
 * Starts the embedded server of `target` (a new home) from a copy of the run's template, with
 * `settings` (postgresql.conf lines) in place from its first start, and creates target.database.
 */
export async function startFromTemplate(
  target: EmbeddedTarget,
  options: { settings?: string[]; stopWhenProcessDies?: number; standby?: boolean } = {},
): Promise<ServerConnection> {
  const account = serverAccount({ PGSTORE_SERVER_USER: target.serverUser });
  const layout = embeddedLayout(target.home, target.port);
  await copyTemplate(target, await template(target.serverUser), options.settings ?? []);
  if (options.standby) {
    // A cold copy of a cleanly stopped cluster is a base backup: it replays from its checkpoint.
    writeFileSync(join(layout.dataDir, 'standby.signal'), '');
    if (account) chownSync(join(layout.dataDir, 'standby.signal'), account.uid, account.gid);
  }
  const conn = await ensureEmbedded(
    target,
    options.stopWhenProcessDies ? { stopWhenProcessDies: options.stopWhenProcessDies } : {},
  );
  if (target.database !== 'postgres' && !options.standby) await createDatabase(conn, target.database);
  return conn;
}

/**
 * Puts a copy of `template` (an initdb'd, never started cluster) in `target`'s new home, with
 * its password file and the lines pgstore's own cluster creation appends to postgresql.conf
 * (src/db/embedded.ts, createCluster), then `settings`: ensureEmbedded then only starts it.
 */
export async function copyTemplate(
  target: EmbeddedTarget,
  template: { dataDir: string; password: string },
  settings: string[],
): Promise<void> {
  const account = serverAccount({ PGSTORE_SERVER_USER: target.serverUser });
  const layout = embeddedLayout(target.home, target.port);
  mkdirSync(target.home, { recursive: true, mode: account ? 0o711 : 0o700 });
  const copied = await copyTree(template.dataDir, layout.dataDir);
  if (copied.failed) throw new Error(`copying the initdb template failed: ${copied.stderr}`);
  writeFileSync(layout.passwordFile, `${template.password}\n`, { mode: 0o600 });
  appendFileSync(
    join(layout.dataDir, 'postgresql.conf'),
    [
      '',
      // As src/db/embedded.ts (createCluster) appends them.
      "listen_addresses = '127.0.0.1'",
      `port = ${target.port}`,
      `unix_socket_directories = '${layout.socketDir.replace(/'/g, "''")}'`,
      'unix_socket_permissions = 0700',
      "password_encryption = 'scram-sha-256'",
      '# Added by the test helper (test/helpers/cluster-template.ts).',
      ...settings,
      '',
    ].join('\n'),
  );
}

/** Creates `database` on a server started from the template (createCluster's default database). */
export async function createDatabase(conn: ServerConnection, database: string): Promise<void> {
  await withAdminSql(conn, async (sql) => {
    await sql.unsafe(`create database "${database.replace(/"/g, '""')}"`);
  });
}
