/**
 * Starting a restored data folder as a server of its own: on its own port, never archiving
 * into the original's archive, replaying WAL up to the target and then promoted. Waits are
 * bounded; a recovery that fails (a target the archive does not reach) is reported with the
 * server log's own words. The server is left running for the caller to look at.
 */
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerConnection } from '../../../db/config.js';
import { withAdminSql } from '../../../db/pool.js';
import { ToolError } from '../../../errors.js';
import { type TableRows, inRecovery, tableRowCounts } from '../../../store/admin/index.js';
import type { Account } from '../../../tools/accounts.js';
import type { PostgresBinaries } from '../../../tools/postgres-binaries.js';
import { startCluster } from '../../../tools/postgres-server.js';

export interface RecoveredServer {
  dataDir: string;
  port: number;
  logFile: string;
  /** The last transaction replayed (from the server log), when it says. */
  lastTransactionAt: string | null;
  /** Exact row counts of the database, as of the recovery target. */
  tables: TableRows[];
  /** How to stop it. */
  stopCommand: string;
}

export interface StartRecoveredOptions {
  binaries: PostgresBinaries;
  dataDir: string;
  account: Account | undefined;
  port: number;
  /** The original's connection: the copy has the same roles and passwords. */
  conn: ServerConnection;
  /** Settings appended to postgresql.auto.conf before the start (recovery settings, say). */
  settings?: Record<string, string>;
  timeoutMs?: number;
  log?: (m: string) => void;
}

/** Appends settings to postgresql.auto.conf, opened without following a symlink. */
export function appendAutoConf(dataDir: string, settings: Record<string, string>): void {
  const lines = Object.entries(settings).map(([k, v]) => `${k} = '${v.replace(/'/g, "''")}'`);
  const fd = openSync(
    join(dataDir, 'postgresql.auto.conf'),
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(fd, `\n# Added by pgstore for the restored copy\n${lines.join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
}

function logTail(logFile: string, lines = 4): string {
  try {
    const text = readFileSync(logFile, 'utf8').trim().split('\n');
    const important = text.filter((l) => /FATAL|PANIC|ERROR/.test(l));
    return (important.length ? important : text).slice(-lines).join(' | ');
  } catch {
    return '(no server log)';
  }
}

/** How often a recovering copy is asked whether it was promoted (a query on an open connection). */
const RECOVERY_POLL_MS = 50;

export async function startRecovered(options: StartRecoveredOptions): Promise<RecoveredServer> {
  const { dataDir, port } = options;
  const logFile = join(dataDir, 'pgstore-recovery.log');
  // Its own port, and never archiving into the archive of the cluster it came from.
  appendAutoConf(dataDir, { ...options.settings, archive_mode: 'off', port: String(port) });
  options.log?.(`Starting the restored copy on 127.0.0.1:${port} to replay WAL...`);
  const timeoutMs = options.timeoutMs ?? 3600_000;
  try {
    await startCluster(
      { binaries: options.binaries, dataDir, logFile, account: options.account },
      port,
      Math.ceil(timeoutMs / 1000),
    );
  } catch {
    throw new ToolError(`the restored copy did not start: ${logTail(logFile)}`, { hint: `See ${logFile}.` });
  }
  const conn: ServerConnection = { ...options.conn, port, pool: { ...options.conn.pool, acquireTimeoutSeconds: 5 } };
  const deadline = Date.now() + timeoutMs;
  const stopped = () => !existsSync(join(dataDir, 'postmaster.pid'));
  for (;;) {
    if (stopped()) {
      throw new ToolError(`the restored copy stopped during recovery: ${logTail(logFile)}`, {
        hint: `A target time after the last archived transaction cannot be reached. See ${logFile}.`,
      });
    }
    // One connection, asked every 50 ms until the copy is promoted (or stops, or the time is up);
    // when it cannot connect or loses the connection, a new one 250 ms later.
    const promoted = await withAdminSql(conn, async (sql) => {
      for (;;) {
        if (!(await inRecovery(sql))) return true;
        if (stopped() || Date.now() > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, RECOVERY_POLL_MS));
      }
    }).catch(() => false);
    if (promoted) break;
    if (Date.now() > deadline)
      throw new ToolError(`the restored copy was still recovering after ${Math.round(timeoutMs / 1000)} s`, {
        hint: `It is still running; see ${logFile}.`,
      });
    if (!stopped()) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const log = readFileSync(logFile, 'utf8');
  const last = /last completed transaction was at log time (.+)$/m.exec(log);
  const tables = await withAdminSql(conn, (sql) => tableRowCounts(sql), conn.database);
  const asUser = options.account ? `runuser -u ${options.account.name} -- ` : '';
  return {
    dataDir,
    port,
    logFile,
    lastTransactionAt: last?.[1]?.trim() ?? null,
    tables,
    stopCommand: `${asUser}${options.binaries.pgCtl} stop -D ${dataDir} -m fast`,
  };
}
