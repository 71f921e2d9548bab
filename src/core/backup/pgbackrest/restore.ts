/**
 * `pgstore restore --engine pgbackrest [--to-time T] --data-dir DIR [--port N]`: restores the
 * cluster from the repository into a new, empty data folder (never the running cluster's),
 * starts it on its own port, lets it replay WAL up to T and promotes it, then counts the
 * rows of the database as of T. The running cluster is not touched, except that its current
 * WAL segment is ended and archived first, so the archive reaches T.
 */
import { existsSync, rmSync } from 'node:fs';
import { withAdminSql } from '../../../db/pool.js';
import { ToolError, UsageError } from '../../../errors.js';
import { isInFuture } from '../../../store/admin/index.js';
import { pgbackrestInfo, runPgbackrest } from '../../../tools/pgbackrest.js';
import type { CoreOptions } from '../../options.js';
import { type RecoveredServer, startRecovered } from '../pitr/start.js';
import { choosePort, parseTargetTime, prepareDataDir } from '../pitr/target.js';
import { archiveUpToNow } from './archiving.js';
import { preparePgbackrest, readyStanza } from './take.js';

export interface PgbackrestRestoreOptions extends CoreOptions {
  dir?: string | undefined;
  /** Stop replaying at this time (default: the end of the archive). */
  toTime?: string | undefined;
  /** A backup label to start from (default: pgBackRest picks the newest one before the target). */
  set?: string | undefined;
  dataDir: string;
  port?: number | undefined;
  timeoutMs?: number | undefined;
}

export interface PgbackrestRestoreResult extends RecoveredServer {
  engine: 'pgbackrest';
  toTime: string | null;
  /** The WAL segment archived just before the restore (the archive reaches at least this far). */
  archivedThrough: string;
}

/** Checks the target time with the server's own parser (a 30 February is refused here, not by recovery). */
export async function checkTargetOnServer(
  conn: import('../../../db/config.js').ServerConnection,
  time: string,
): Promise<void> {
  let future: boolean;
  try {
    future = await withAdminSql(conn, (sql) => isInFuture(sql, time));
  } catch (error) {
    throw new UsageError(`--to-time '${time}' is not a time PostgreSQL accepts: ${(error as Error).message}`, {
      hint: 'Write it like 2026-01-02 03:04:05+00.',
    });
  }
  if (future)
    throw new UsageError(`--to-time '${time}' is in the future (by the server's clock)`, {
      hint: 'Recovery can only stop at a time that has passed.',
    });
}

export async function pgbackrestRestore(options: PgbackrestRestoreOptions): Promise<PgbackrestRestoreResult> {
  const toTime = options.toTime === undefined ? undefined : parseTargetTime(options.toTime);
  const { cluster, br } = await preparePgbackrest(options);
  if (toTime) await checkTargetOnServer(cluster.conn, toTime);
  const existed = existsSync(options.dataDir);
  const dataDir = prepareDataDir(options.dataDir, cluster.dataDir, cluster.account);
  const port = await choosePort(options.port);
  // No pgBackRest `check`: archiveUpToNow below is the same proof (a WAL switch, archived).
  await readyStanza(cluster, br, { log: options.log, check: false, info: await pgbackrestInfo(br) });
  const archivedThrough = await archiveUpToNow(cluster);
  options.log?.(`Restoring from ${br.config.replace(/pgbackrest\.conf$/, 'repo')} into ${dataDir}...`);
  const target = toTime ? ['--type=time', `--target=${toTime}`, '--target-action=promote'] : ['--type=default'];
  try {
    await runPgbackrest(br, 'restore', {
      options: [`--pg1-path=${dataDir}`, ...(options.set ? [`--set=${options.set}`] : []), ...target],
      timeoutMs: options.timeoutMs ?? 6 * 3600_000,
    });
  } catch (error) {
    // The folder was new or empty and only pgBackRest wrote there: a folder pgstore made goes.
    if (!existed) rmSync(dataDir, { recursive: true, force: true });
    throw new ToolError(`${(error as Error).message}`, {
      hint: existed
        ? `Nothing was started; ${dataDir} may hold a partial restore: empty it before trying again.`
        : 'Nothing was started, and the new data folder was removed.',
    });
  }
  const server = await startRecovered({
    binaries: cluster.binaries,
    dataDir,
    account: cluster.account,
    port,
    conn: cluster.conn,
    timeoutMs: options.timeoutMs,
    log: options.log,
  });
  return { engine: 'pgbackrest', toTime: toTime ?? null, archivedThrough, ...server };
}
