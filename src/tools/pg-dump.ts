/**
 * pg_dump runs: the schema as SQL (migrate dump) and whole backups (pgstore backup). The
 * password reaches pg_dump through its environment, never its argv.
 */
import { libpqEnv, type ServerConnection } from '../db/config.js';
import { ToolError, UsageError } from '../errors.js';
import { findPgClient } from './pg-client.js';
import { describeFailure, runTool } from './run.js';
import { runStreaming } from './run-stream.js';

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

export type DumpFormat = 'custom' | 'directory' | 'plain';

export interface Compression {
  method: 'gzip' | 'lz4' | 'zstd' | 'none';
  level?: number | undefined;
}

/** pg_dump's compression flags for `c` (pg_dump 15 knows gzip levels only; 16 adds lz4 and zstd). */
export function compressionArgs(c: Compression | undefined, pgDumpMajor: number): string[] {
  if (!c) return [];
  if (c.method === 'none') return ['--compress=0'];
  if (pgDumpMajor >= 16) return [`--compress=${c.method}${c.level === undefined ? '' : `:${c.level}`}`];
  if (c.method !== 'gzip') {
    throw new UsageError(`--compress ${c.method} needs pg_dump 16 or newer; this pg_dump is version ${pgDumpMajor}`, {
      hint: 'Use gzip (e.g. --compress gzip:1), or install the PostgreSQL 16+ client and set PGSTORE_PG_BIN.',
    });
  }
  // pg_dump 15: -Z 0-9 is gzip; a bare "gzip" means its default level.
  return [`--compress=${c.level ?? 6}`];
}

export interface PgDumpRun {
  conn: ServerConnection;
  pgDumpPath: string;
  format: DumpFormat;
  /** The file (custom, plain) or folder (directory) to write. */
  output: string;
  jobs?: number;
  compressArgs: string[];
  /** A snapshot exported by the caller's open transaction (pg_export_snapshot()). */
  snapshot?: string;
  /** Called each time pg_dump starts writing a table's rows. */
  onTable?: (qualifiedName: string) => void;
  timeoutMs?: number;
}

/**
 * Runs pg_dump into `output`. The password travels in PGPASSWORD, never argv; --no-password
 * makes a missing one fail instead of prompting (cron has no terminal). Throws a ToolError on
 * any failure, a death by signal included.
 */
export async function runPgDump(run: PgDumpRun): Promise<void> {
  const flag = { custom: 'c', directory: 'd', plain: 'p' }[run.format];
  const args = [`--format=${flag}`, `--file=${run.output}`, '--verbose', '--no-password', ...run.compressArgs];
  if (run.jobs && run.jobs > 1) args.push(`--jobs=${run.jobs}`);
  if (run.snapshot) args.push(`--snapshot=${run.snapshot}`);
  const result = await runStreaming(run.pgDumpPath, args, {
    env: libpqEnv(run.conn),
    timeoutMs: run.timeoutMs,
    onStderrLine: (line) => {
      const match = /dumping contents of table "(.*)"$/.exec(line);
      if (match) run.onTable?.(match[1]!);
    },
  });
  if (result.failed) {
    const errors = result.stderr.split('\n').filter((line) => !/^pg_dump: (?!error|warning|detail|hint)/.test(line)).join('\n');
    throw new ToolError(describeFailure('pg_dump', { ...result, stderr: errors }), {
      hint: 'The backup was discarded; nothing was listed or pruned. Fix the cause and run the backup again.',
    });
  }
}
