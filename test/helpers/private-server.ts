/**
 * An embedded server of a test file's own (its own home, port and data folder), for tests
 * that change server settings (archive_mode, archive_command) or restart it, which must not
 * disturb the shared test server. Started in-process, stopped by `stop()`, and stopped anyway
 * if the test process dies. Also: stopping data folders a restore started.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { connectionUrl, DEFAULT_POOL, type EmbeddedTarget, type ServerConnection } from '../../src/db/config.js';
import { serverAccount, stopEmbedded } from '../../src/db/embedded.js';
import { locateBinaries, binariesReachableBy } from '../../src/tools/postgres-binaries.js';
import { stopCluster, stopClusterWhenGone } from '../../src/tools/postgres-server.js';
import { cleanEnv } from './cli.js';
import { startFromTemplate } from './cluster-template.js';
import { serverDataRoot } from './server-info.js';
import { freePort } from './free-port.js';

export interface PrivateServer {
  /** A temporary folder (0711, so the server account can enter it as root) holding everything. */
  root: string;
  home: string;
  port: number;
  conn: ServerConnection;
  url: string;
  /** The binary's environment: this server as the embedded default, backups under root/backups. */
  env: Record<string, string>;
  /** Stops a server started from another data folder (a restored copy) when the test ends. */
  watch(dataDir: string): void;
  stopDataDir(dataDir: string): Promise<void>;
  stop(): Promise<void>;
}

/** `settings`: postgresql.conf lines in place from the server's first start (e.g. ssl = on). */
export async function startPrivateServer(options: { settings?: string[] } = {}): Promise<PrivateServer> {
  // In memory when it can be (server-info.ts, serverDataRoot: initdb and backups create many files).
  const root = mkdtempSync(join(serverDataRoot(), 'pgstore-private-'));
  chmodSync(root, 0o711);
  const home = join(root, 'home');
  const port = await freePort();
  const target: EmbeddedTarget = {
    kind: 'embedded',
    source: 'embedded',
    home,
    port,
    database: 'pgstore',
    pool: DEFAULT_POOL,
    serverUser: process.env.PGSTORE_SERVER_USER,
  };
  // A copy of the run's initdb, not an initdb of its own (cluster-template.ts: ~0.5 s of CPU less).
  const conn = await startFromTemplate(target, {
    stopWhenProcessDies: process.pid,
    ...(options.settings ? { settings: options.settings } : {}),
  });
  const account = serverAccount({ PGSTORE_SERVER_USER: target.serverUser });
  const binaries = binariesReachableBy(locateBinaries(), account, home);
  const paths = (dataDir: string) => ({ binaries, dataDir, logFile: join(dataDir, 'stop.log'), account });
  const others: string[] = [];
  return {
    root,
    home,
    port,
    conn,
    url: connectionUrl(conn),
    env: cleanEnv({ PGSTORE_HOME: home, PGSTORE_PORT: String(port), PGSTORE_BACKUP_DIR: join(root, 'backups') }),
    watch(dataDir) {
      others.push(dataDir);
      stopClusterWhenGone(paths(dataDir), process.pid);
    },
    async stopDataDir(dataDir) {
      await stopCluster(paths(dataDir), 'immediate').catch(() => undefined);
    },
    async stop() {
      for (const dir of others) await stopCluster(paths(dir), 'immediate').catch(() => undefined);
      await stopEmbedded(target).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
