/**
 * One initdb per vitest run for the tests' own clusters (issue 13): initdb costs ~0.5 s of CPU,
 * a copy of its result ~40 ms. The first file that needs a new cluster (the run's standby pair,
 * a private pair, pgBackRest's private server) runs initdb into the run's folder (standby-setup.ts
 * reserves it and removes it at the end) under a file lock; every cluster is then a copy of it,
 * given the lines pgstore's own cluster creation appends to postgresql.conf (src/db/embedded.ts,
 * createCluster) plus the caller's settings, and started by pgstore's ensureEmbedded, which sees
 * an initialized cluster and only starts it. Settings given here are in place at the first start:
 * no restart for archive_mode.
 */
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { EMBEDDED_USER, type EmbeddedTarget, type ServerConnection } from '../../src/db/config.js';
import { embeddedLayout, ensureEmbedded, serverAccount } from '../../src/db/embedded.js';
import { withAdminSql } from '../../src/db/pool.js';
import { binariesReachableBy, locateBinaries } from '../../src/tools/postgres-binaries.js';
import { initCluster } from '../../src/tools/postgres-server.js';
import { runTool } from '../../src/tools/run.js';
import { acquireFileLock } from '../../src/util/file-lock.js';
import { cheapScramVerifier } from './scram-verifier.js';

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
      const password = `t${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
      const pwfile = join(dir, 'initdb.pw');
      // initdb stores a verifier as it is: one that is cheap for clients (scram-verifier.ts).
      writeFileSync(pwfile, cheapScramVerifier(password), { mode: 0o600 });
      if (account) chownSync(pwfile, account.uid, account.gid);
      const binaries = binariesReachableBy(locateBinaries(), account, dir);
      await initCluster({ binaries, dataDir, logFile: join(dir, 'initdb.log'), account }, EMBEDDED_USER, pwfile);
      writeFileSync(passwordFile, password, { mode: 0o600 });
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
  const { dataDir, password } = await template(target.serverUser);
  const layout = embeddedLayout(target.home, target.port);
  mkdirSync(target.home, { recursive: true, mode: account ? 0o711 : 0o700 });
  // cp -a keeps the server account's ownership and the data folder's 0700.
  const copied = await runTool('cp', ['-a', dataDir, layout.dataDir], { allowFailure: true, timeoutMs: 60_000 });
  if (copied.failed) throw new Error(`copying the initdb template failed: ${copied.stderr}`);
  writeFileSync(layout.passwordFile, `${password}\n`, { mode: 0o600 });
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
      ...(options.settings ?? []),
      '',
    ].join('\n'),
  );
  if (options.standby) {
    // A cold copy of a cleanly stopped cluster is a base backup: it replays from its checkpoint.
    writeFileSync(join(layout.dataDir, 'standby.signal'), '');
    if (account) chownSync(join(layout.dataDir, 'standby.signal'), account.uid, account.gid);
  }
  const conn = await ensureEmbedded(
    target,
    options.stopWhenProcessDies ? { stopWhenProcessDies: options.stopWhenProcessDies } : {},
  );
  if (target.database !== 'postgres' && !options.standby) {
    await withAdminSql(conn, async (sql) => {
      await sql.unsafe(`create database "${target.database.replace(/"/g, '""')}"`);
    });
  }
  return conn;
}
