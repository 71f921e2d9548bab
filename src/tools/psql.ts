/**
 * psql runs: a plain SQL dump fed on stdin, stopping at the first error (ON_ERROR_STOP) and in
 * one transaction. The password travels in PGPASSWORD, never argv.
 */
import type { Readable } from 'node:stream';
import { libpqEnv, type LibpqConnection } from './libpq-env.js';
import { ToolError } from '../errors.js';
import { conninfoDbname } from './pg-restore.js';
import { describeFailure } from './run.js';
import { runStreaming } from './run-stream.js';

export interface PsqlScriptRun {
  conn: LibpqConnection;
  psqlPath: string;
  database: string;
  /** The SQL, streamed to psql's stdin. */
  sql: Readable;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

/**
 * Runs a SQL script with ON_ERROR_STOP in a single transaction (psql -1): the first error
 * stops it and everything is rolled back. ~/.psqlrc is not read (-X).
 */
export async function runPsqlScript(run: PsqlScriptRun): Promise<void> {
  const args = [
    '-X',
    '--quiet',
    '--no-password',
    '--set=ON_ERROR_STOP=1',
    '--single-transaction',
    '--file=-',
    `--dbname=${conninfoDbname(run.database)}`,
  ];
  const result = await runStreaming(run.psqlPath, args, {
    env: {
      ...libpqEnv({ ...run.conn, database: run.database }),
      PGOPTIONS: joinOptions(run.conn.params.options, '-c client_min_messages=warning'),
    },
    stdin: run.sql,
    signal: run.signal,
    timeoutMs: run.timeoutMs ?? 24 * 3_600_000,
  });
  if (result.failed) {
    const errors = result.stderr
      .split('\n')
      .filter((line) => /ERROR|FATAL|error|LINE|DETAIL|HINT|^\s/.test(line))
      .join('\n');
    throw new ToolError(
      `restore into ${run.database} failed: ${describeFailure('psql', { ...result, stderr: errors || result.stderr }, { tailLines: 4 })}`,
      {
        hint: 'The script stopped at the first error (ON_ERROR_STOP) and its transaction was rolled back.',
      },
    );
  }
}

function joinOptions(...parts: Array<string | undefined>): string {
  return parts.filter(Boolean).join(' ');
}
