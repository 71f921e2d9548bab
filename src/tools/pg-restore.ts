/**
 * pg_restore runs: reading a whole archive back (to prove it is readable to the last byte),
 * listing and rendering parts of it, and restoring it into a database. The password travels in
 * PGPASSWORD, never argv; a death by signal is a failure.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { libpqEnv, type LibpqConnection } from './libpq-env.js';
import { ToolError } from '../errors.js';
import { describeFailure, type RunResult } from './run.js';
import { runStreaming } from './run-stream.js';

const HOUR = 3_600_000;

function failure(what: string, result: RunResult, hint: string): ToolError {
  const errors = result.stderr
    .split('\n')
    .filter((line) => !/^pg_restore: (?!error|warning|detail|hint)/.test(line))
    .join('\n');
  return new ToolError(`${what}: ${describeFailure('pg_restore', { ...result, stderr: errors }, { tailLines: 4 })}`, {
    hint,
  });
}

/**
 * Reads every byte of an archive (custom or directory format) and decompresses its data, writing
 * the SQL to /dev/null. Unlike `pg_restore -l`, which reads only the table of contents, this
 * fails on a truncated or corrupted archive.
 */
export async function readWholeArchive(pgRestore: string, archive: string): Promise<void> {
  const result = await runStreaming(pgRestore, ['--file=/dev/null', archive], { timeoutMs: 24 * HOUR });
  if (result.failed)
    throw failure(
      `archive ${archive} cannot be read back`,
      result,
      'The backup is damaged: do not rely on it. Take a new backup.',
    );
}

/** The archive's table of contents (`pg_restore -l`), one entry per line. */
export async function listArchive(pgRestore: string, archive: string): Promise<string[]> {
  const result = await runStreaming(pgRestore, ['--list', archive], { timeoutMs: HOUR, keepLines: 50 });
  if (result.failed)
    throw failure(
      `archive ${archive} cannot be listed`,
      result,
      'Is this a pg_dump archive (custom or directory format)?',
    );
  return result.stdout.split('\n').filter((line) => line && !line.startsWith(';'));
}

/**
 * The SQL of the archive's privilege entries only (GRANT, REVOKE, ALTER DEFAULT PRIVILEGES),
 * rendered without touching a database: used to find roles the target lacks.
 */
export async function privilegeStatements(pgRestore: string, archive: string, toc: string[]): Promise<string> {
  const acl = toc.filter((line) => /^\d+; \d+ \d+ (ACL|DEFAULT ACL) /.test(line));
  if (acl.length === 0) return '';
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-acl-'));
  try {
    const list = join(dir, 'acl.list');
    writeFileSync(list, `${acl.join('\n')}\n`, { mode: 0o600 });
    const result = await runStreaming(pgRestore, ['--file=-', `--use-list=${list}`, archive], {
      timeoutMs: HOUR,
      keepLines: 50,
    });
    if (result.failed)
      throw failure(`archive ${archive}: privileges cannot be read`, result, 'The archive may be damaged.');
    return result.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** TOC lines of the database's own entries (shown by `pg_restore --list` only with --create). */
const DATABASE_ENTRY = /^\d+; \d+ \d+ (?:DATABASE |DATABASE PROPERTIES |(?:COMMENT|ACL|SECURITY LABEL) - DATABASE )/;

/**
 * The SQL of the archive's database-level entries (CREATE DATABASE, its comment, grants and
 * ALTER DATABASE / ALTER ROLE ... IN DATABASE settings), as `pg_restore --create` would run
 * them, rendered without touching a database. Empty when the archive has none.
 */
export async function databaseEntriesSql(pgRestore: string, archive: string): Promise<string> {
  const listed = await runStreaming(pgRestore, ['--list', '--create', archive], { timeoutMs: HOUR, keepLines: 50 });
  if (listed.failed)
    throw failure(
      `archive ${archive} cannot be listed`,
      listed,
      'Is this a pg_dump archive (custom or directory format)?',
    );
  const entries = listed.stdout.split('\n').filter((line) => DATABASE_ENTRY.test(line));
  if (entries.length === 0) return '';
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-db-'));
  try {
    const list = join(dir, 'database.list');
    writeFileSync(list, `${entries.join('\n')}\n`, { mode: 0o600 });
    const result = await runStreaming(pgRestore, ['--create', '--file=-', `--use-list=${list}`, archive], {
      timeoutMs: HOUR,
      keepLines: 50,
    });
    if (result.failed)
      throw failure(`archive ${archive}: database properties cannot be read`, result, 'The archive may be damaged.');
    return result.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PgRestoreRun {
  conn: LibpqConnection;
  pgRestorePath: string;
  /** The database to restore into. */
  database: string;
  archive: string;
  /** >1: parallel restore (not one transaction). */
  jobs: number;
  /** Skip ALTER ... OWNER TO (objects belong to the restoring role). */
  noOwner: boolean;
  /** Skip GRANT/REVOKE (used when the archive grants to roles the target lacks). */
  noPrivileges: boolean;
  /** Called as pg_restore starts loading each table's rows. */
  onTable?: (qualifiedName: string) => void;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

/**
 * Restores an archive, stopping at the first error (--exit-on-error); with one job, in one
 * transaction (--single-transaction), so a failure leaves nothing behind.
 */
export async function runPgRestore(run: PgRestoreRun): Promise<void> {
  const args = ['--verbose', '--no-password', '--exit-on-error'];
  if (run.jobs > 1) args.push(`--jobs=${run.jobs}`);
  else args.push('--single-transaction');
  if (run.noOwner) args.push('--no-owner');
  if (run.noPrivileges) args.push('--no-privileges');
  args.push(`--dbname=${conninfoDbname(run.database)}`, run.archive);
  const env = libpqEnv({ ...run.conn, database: run.database });
  const result = await runStreaming(run.pgRestorePath, args, {
    env,
    timeoutMs: run.timeoutMs ?? 24 * HOUR,
    signal: run.signal,
    onStderrLine: (line) => {
      const match = /processing data for table "(.*)"$/.exec(line);
      if (match) run.onTable?.(match[1]!);
    },
  });
  if (result.failed) {
    throw failure(
      `restore into ${run.database} failed`,
      result,
      run.jobs > 1
        ? 'The restore stopped at the first error; with --jobs > 1 it was not one transaction, so the target may hold part of the data.'
        : 'The restore stopped at the first error and was rolled back.',
    );
  }
}

/**
 * `dbname='name'` as a libpq connection string: a database name that looks like a URL or
 * holds `=` is still taken as a name. Host, user and password come from the environment.
 */
export function conninfoDbname(name: string): string {
  return `dbname='${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
