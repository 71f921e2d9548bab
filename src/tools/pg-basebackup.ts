/**
 * pg_basebackup: a copy of a whole cluster's data folder (plain format), with the WAL it needs
 * to be consistent streamed alongside (-X stream). The password travels in PGPASSWORD, never
 * argv; as root it runs as the server account, so the copy belongs to that account.
 */
import { libpqEnv, type LibpqConnection } from './libpq-env.js';
import { ToolError } from '../errors.js';
import type { Account } from './accounts.js';
import { describeFailure, runTool } from './run.js';

export interface BaseBackupRun {
  path: string;
  conn: LibpqConnection;
  /** A folder that does not exist yet (or is empty). */
  target: string;
  account: Account | undefined;
  timeoutMs: number;
}

export async function runBaseBackup(run: BaseBackupRun): Promise<void> {
  const args = ['--no-password', '-D', run.target, '-Fp', '-X', 'stream', '--checkpoint=fast', '-l', 'pgstore'];
  const result = await runTool(run.path, args, {
    env: libpqEnv({ ...run.conn, database: 'postgres' }),
    uid: run.account?.uid,
    gid: run.account?.gid,
    timeoutMs: run.timeoutMs,
    allowFailure: true,
    tailLines: 4,
  });
  if (result.failed)
    throw new ToolError(describeFailure('pg_basebackup', result, { timeoutMs: run.timeoutMs, tailLines: 4 }));
}
