/**
 * pg_dump runs: the schema as SQL (migrate dump) and whole backups (pgstore backup). The
 * password reaches pg_dump through its environment, never its argv.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsync, write } from 'node:fs';
import { Writable } from 'node:stream';
import { libpqEnv, type LibpqConnection } from './libpq-env.js';
import { createNewFile } from '../util/atomic-file.js';
import { LockTimeoutError, ToolError, UsageError } from '../errors.js';
import { findPgClient } from './pg-client.js';
import { describeFailure, runTool } from './run.js';
import { runStreaming } from './run-stream.js';

/** The schema of a database as SQL text (no owners, no privileges), like dbmate's dump. */
export async function dumpSchemaSql(
  conn: LibpqConnection,
  serverMajor: number,
  env: Record<string, string | undefined>,
): Promise<string> {
  const pgDump = await findPgClient('pg_dump', serverMajor, env);
  const result = await runTool(
    pgDump.path,
    ['--schema-only', '--no-owner', '--no-privileges', '--encoding=UTF8', '--format=plain'],
    {
      env: libpqEnv(conn),
      timeoutMs: 600_000,
      allowFailure: true,
    },
  );
  if (result.failed)
    throw new ToolError(describeFailure('pg_dump', result), {
      hint: 'Check that the connecting role may read every schema.',
    });
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
  conn: LibpqConnection;
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
  /** Give up when a table's lock is not granted within this many ms (--lock-wait-timeout; 0 or none: wait). */
  lockWaitTimeoutMs?: number | undefined;
}

/** What a streamed dump wrote: its size and sha256, computed as it was written. */
export interface DumpedFile {
  bytes: number;
  sha256: string;
}

/**
 * Runs pg_dump into `output`. The password travels in PGPASSWORD, never argv; --no-password
 * makes a missing one fail instead of prompting (cron has no terminal). Throws a ToolError on
 * any failure, a death by signal included.
 *
 * Custom and plain dumps are streamed: pg_dump writes to its stdout, a pipe whose only reader
 * is pgstore, which writes the file (created 0600 with O_EXCL|O_NOFOLLOW) and hashes it on the
 * way (returned: no second read for the checksum). If pgstore dies, pg_dump's next write gets
 * EPIPE/SIGPIPE and it ends. A directory dump (-Fd, -j N) cannot be streamed: pg_dump writes
 * the folder itself, and a watcher stops it if pgstore dies (see stopWhenParentDies). The
 * watcher also covers a streamed pg_dump that is not writing (waiting for a table lock).
 */
export async function runPgDump(run: PgDumpRun): Promise<DumpedFile | undefined> {
  const flag = { custom: 'c', directory: 'd', plain: 'p' }[run.format];
  const streamed = run.format !== 'directory';
  const args = [
    `--format=${flag}`,
    ...(streamed ? [] : [`--file=${run.output}`]),
    '--verbose',
    '--no-password',
    ...run.compressArgs,
  ];
  if (run.jobs && run.jobs > 1) args.push(`--jobs=${run.jobs}`);
  if (run.snapshot) args.push(`--snapshot=${run.snapshot}`);
  if (run.lockWaitTimeoutMs) args.push(`--lock-wait-timeout=${Math.round(run.lockWaitTimeoutMs)}`);
  const sink = streamed ? hashingFileSink(run.output) : undefined;
  let result: Awaited<ReturnType<typeof runStreaming>>;
  try {
    result = await runStreaming(run.pgDumpPath, args, {
      // Its own messages in English: a lock not granted is recognised by them (lockNotGranted).
      env: { ...libpqEnv(run.conn), LC_MESSAGES: 'C' },
      timeoutMs: run.timeoutMs,
      stdout: sink?.stream,
      dieWithParent: true,
      onStderrLine: (line) => {
        const match = /dumping contents of table "(.*)"$/.exec(line);
        if (match) run.onTable?.(match[1]!);
      },
    });
  } finally {
    // Closes the file when the dump did not finish it (a failure, or pg_dump never started).
    if (sink && !sink.stream.writableFinished) sink.stream.destroy();
  }
  if (result.failed) {
    const errors = result.stderr
      .split('\n')
      .filter((line) => !/^pg_dump: (?!error|warning|detail|hint)/.test(line))
      .join('\n');
    const table = lockNotGranted(errors);
    if (table !== undefined)
      throw new LockTimeoutError(`pg_dump could not lock table ${table || '(unknown)'} in time`, {
        table: table || undefined,
        hint: 'The backup was discarded; nothing was listed or pruned.',
      });
    throw new ToolError(describeFailure('pg_dump', { ...result, stderr: errors }), {
      hint: 'The backup was discarded; nothing was listed or pruned. Fix the cause and run the backup again.',
    });
  }
  return sink?.result();
}

/**
 * The table pg_dump could not lock ('' when it does not say), or undefined for another failure:
 * --lock-wait-timeout ends its `LOCK TABLE` with a statement timeout; a parallel worker's
 * NOWAIT lock says "could not obtain lock on relation".
 */
export function lockNotGranted(stderr: string): string | undefined {
  const timedOut = /statement timeout[\s\S]*?Query was: LOCK TABLE (\S+) IN/.exec(stderr);
  if (timedOut) return timedOut[1]!;
  const worker = /could not obtain lock on relation "([^"]*)"/.exec(stderr);
  if (worker) return worker[1]!;
  return /could not obtain lock on relation|lock timeout|SQLSTATE 55P03/.test(stderr) ? '' : undefined;
}

/**
 * A new file (0600, exclusive, never through a symlink) that hashes what it is given, fsyncs on
 * end and closes. Memory stays bounded: at most highWaterMark bytes wait here while the file
 * write is under way; the pipe then fills and pg_dump blocks (backpressure).
 */
function hashingFileSink(path: string): { stream: Writable; result: () => DumpedFile } {
  const fd = createNewFile(path, 0o600, true);
  const hash = createHash('sha256');
  let bytes = 0;
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      closeSync(fd);
    }
  };
  const writeAll = (chunk: Buffer, offset: number, done: (error?: Error | null) => void): void => {
    write(fd, chunk, offset, chunk.length - offset, null, (error, written) => {
      if (error) return done(error);
      if (offset + written < chunk.length) return writeAll(chunk, offset + written, done);
      done();
    });
  };
  const stream = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      writeAll(chunk, 0, done);
    },
    final(done) {
      fsync(fd, (error) => done(error));
    },
    destroy(error, done) {
      close();
      done(error);
    },
  });
  return { stream, result: () => ({ bytes, sha256: hash.digest('hex') }) };
}
