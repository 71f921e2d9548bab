/**
 * pg_dump runs. The password reaches pg_dump through its environment, never its argv.
 */
import { libpqEnv, type ServerConnection } from '../db/config.js';
import { ToolError } from '../errors.js';
import { findPgClient } from './pg-client.js';
import { describeFailure, runTool } from './run.js';

/** The schema of a database as SQL text (no owners, no privileges), like dbmate's dump. */
export async function dumpSchemaSql(conn: ServerConnection, serverMajor: number, env: Record<string, string | undefined>): Promise<string> {
  const pgDump = await findPgClient('pg_dump', serverMajor, env);
  const result = await runTool(pgDump.path, ['--schema-only', '--no-owner', '--no-privileges', '--encoding=UTF8', '--format=plain'], {
    env: libpqEnv(conn),
    timeoutMs: 600_000,
    allowFailure: true,
  });
  if (result.failed) throw new ToolError(describeFailure('pg_dump', result), { hint: 'Check that the connecting role may read every schema.' });
  return result.stdout;
}
