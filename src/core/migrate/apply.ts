/**
 * Running dbmate for one migration set, with what dbmate declined to build: a migration that
 * cannot get its lock within lock_timeout (SQLSTATE 55P03) is tried again with backoff, and a
 * `transaction:false` file whose CREATE INDEX CONCURRENTLY failed does not leave its invalid
 * index behind.
 */
import { readFileSync } from 'node:fs';
import { describeTarget } from '../../db/config.js';
import { MigrationFailedError } from '../../errors.js';
import {
  dropIndexConcurrently,
  ENDED_ITS_TRANSACTION,
  invalidIndexes,
  recordChecksums,
  withLockTimeout,
} from '../../store/admin/index.js';
import { dbmateName } from '../../store/admin/index.js';
import { type DbmateRun, runDbmate } from '../../tools/dbmate.js';
import { type MigrationFile, sectionBody } from './files.js';
import type { MigrationSet } from './sets.js';
import { DEFAULT_LOCK_TIMEOUT_MS, dbmateUrl, type MigrateOptions, type MigrationSession } from './session.js';
import { plural } from '../../util/format.js';
import { onStop } from '../../util/critical.js';

export { MigrationFailedError } from '../../errors.js';

export interface RetryEvent {
  set: string;
  filename: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  error: string;
}

export interface ApplyReport {
  retries: RetryEvent[];
  droppedInvalidIndexes: string[];
}

export const DEFAULT_RETRIES = 3;

/** lib/pq reports the server's message, not its SQLSTATE: 55P03 is "canceling statement due to lock timeout". */
export const isLockTimeout = (error: string | undefined) => /lock timeout/i.test(error ?? '');
/** SQLSTATEs, where pgstore runs the file itself: lock_timeout, and statement_timeout (or a cancel). */
export const LOCK_NOT_AVAILABLE = '55P03';
export const QUERY_CANCELED = '57014';
/** The server's: a COMMIT where none may be (a procedure that commits, inside a transaction). */
export const INVALID_TRANSACTION_TERMINATION = '2D000';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** 1 s, 2 s, 4 s ... at most 30 s, with a little jitter so that retrying deploys spread out. */
const backoffMs = (attempt: number) => Math.min(30_000, 1000 * 2 ** (attempt - 1)) + Math.floor(Math.random() * 200);

/** Index names a file's up section builds with CREATE INDEX CONCURRENTLY. */
export function concurrentIndexNames(text: string): string[] {
  const body = sectionBody(text, 'up').replace(/--[^\n]*/g, '');
  const names: string[] = [];
  for (const m of body.matchAll(
    /create\s+(?:unique\s+)?index\s+concurrently\s+(?:if\s+not\s+exists\s+)?((?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+))?)\s+on\b/gi,
  )) {
    names.push(m[1]!);
  }
  return names;
}

/** Statements in a section (roughly: split on semicolons; dollar quotes make it over-count, which only makes us more careful). */
const statementCount = (body: string) =>
  body
    .replace(/--[^\n]*/g, '')
    .split(';')
    .filter((s) => s.trim() !== '').length;

/** Applies (`migrate`) or rolls back one (`rollback`) migration of a set, retrying lock timeouts. */
export async function runSet(
  session: MigrationSession,
  set: MigrationSet,
  command: 'migrate' | 'rollback',
  options: MigrateOptions,
  report: ApplyReport,
  onApplied: (files: MigrationFile[]) => Promise<void>,
  /** Called as each file is done, while dbmate runs (progress). */
  onEach?: (file: MigrationFile) => void,
): Promise<DbmateRun> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  const url = dbmateUrl(session, set, options);
  let leftover: { file: MigrationFile; run: DbmateRun } | undefined; // invalid indexes still to drop
  for (let attempt = 0; ; attempt++) {
    if (leftover) {
      // The indexes a failed CREATE INDEX CONCURRENTLY left must go before the file runs again.
      const { left } = await dropInvalid(session, leftover.file, options, report);
      if (left.length) {
        if (attempt >= retries) throw failure(leftover.run, session, set, leftover.file, command, left, attempt);
        await backOff(
          set,
          leftover.file,
          attempt,
          retries,
          'its invalid index could not be dropped yet',
          report,
          options,
        );
        continue;
      }
      leftover = undefined;
    }
    const byName = new Map(set.files.map((f) => [f.filename, f]));
    // The checksums of what dbmate applied, in one statement once it is done. Not as it goes:
    // an update per file, each a commit of its own, slowed dbmate's own commits (~0.5 ms a
    // file). If pgstore is stopped meanwhile (SIGTERM), those of the files dbmate reported
    // applied so far are written before it exits: nothing fills them in later. (dbmate also
    // reports a file whose transaction then failed: its row does not exist, nothing is written.)
    const reported: MigrationFile[] = [];
    const unregister =
      command === 'migrate' ? onStop(() => recordChecksums(session.sql, set.table, reported)) : () => undefined;
    let run: DbmateRun;
    try {
      run = await runDbmate(command, {
        url,
        migrationsDir: set.dir,
        migrationsTable: dbmateName(set.table),
        onDone: onEach
          ? (name) => {
              const file = byName.get(name);
              if (file) onEach(file);
            }
          : undefined,
        onAppliedLine: (name) => {
          const file = byName.get(name);
          if (file) reported.push(file);
        },
      });
    } finally {
      unregister();
    }
    const applied = set.files.filter((f) => run.applied.includes(f.filename));
    if (command === 'migrate') await recordChecksums(session.sql, set.table, applied);
    await onApplied(applied);
    if (!run.failed) return run;
    const file = set.files.find((f) => f.filename === run.current);
    const { left } =
      file && command === 'migrate' && !file.transactional
        ? await dropInvalid(session, file, options, report)
        : { left: [] };
    const retryable = isLockTimeout(run.error) && file && canRerun(file, command);
    if (!retryable || attempt >= retries) throw failure(run, session, set, file, command, left, attempt);
    if (left.length) leftover = { file, run };
    await backOff(set, file, attempt, retries, run.error ?? 'lock timeout', report, options);
  }
}

export async function backOff(
  set: MigrationSet,
  file: MigrationFile,
  attempt: number,
  retries: number,
  error: string,
  report: ApplyReport,
  options: MigrateOptions,
): Promise<void> {
  const delayMs = backoffMs(attempt + 1);
  report.retries.push({ set: set.name, filename: file.filename, attempt: attempt + 1, delayMs, error });
  options.log?.(
    `${file.filename} could not get its lock within lock_timeout; retry ${attempt + 1} of ${retries} in ${(delayMs / 1000).toFixed(1)} s...`,
  );
  await sleep(delayMs);
}

/** Before pending transaction:false files run: drop the invalid indexes an earlier failed run of them left. */
export async function dropLeftovers(
  session: MigrationSession,
  pending: MigrationFile[],
  options: MigrateOptions,
  report: ApplyReport,
): Promise<void> {
  for (const file of pending) if (!file.transactional) await dropInvalid(session, file, options, report);
}

/** A transactional section was rolled back, so it can run again; a transaction:false one only if it is one statement. */
export function canRerun(file: MigrationFile, command: 'migrate' | 'rollback'): boolean {
  const transactional = command === 'migrate' ? file.transactional : file.downTransactional;
  if (transactional) return true;
  return statementCount(sectionBody(readText(file), command === 'migrate' ? 'up' : 'down')) <= 1;
}

const readText = (file: MigrationFile) => readFileSync(file.path, 'utf8');

/** Drops the invalid indexes a failed CREATE INDEX CONCURRENTLY of `file` left; returns those it could not. */
export async function dropInvalid(
  session: MigrationSession,
  file: MigrationFile,
  options: MigrateOptions,
  report: ApplyReport,
): Promise<{ dropped: string[]; left: string[] }> {
  const invalid = await invalidIndexes(session.sql, concurrentIndexNames(readText(file)));
  const dropped: string[] = [];
  const left: string[] = [];
  if (invalid.length === 0) return { dropped, left };
  // The drop waits for the same blockers: bounded by the same lock_timeout.
  await withLockTimeout(session.sql, options.pgLockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, async () => {
    for (const name of invalid) {
      try {
        await dropIndexConcurrently(session.sql, name);
        dropped.push(name);
        report.droppedInvalidIndexes.push(name);
        options.log?.(
          `Dropped the invalid index ${name} left by the failed CREATE INDEX CONCURRENTLY in ${file.filename}.`,
        );
      } catch {
        left.push(name);
      }
    }
  });
  return { dropped, left };
}

/** What a failed run tells: dbmate's (its error line, exit) or pgstore's own session's. */
export type FailedRun = Pick<DbmateRun, 'error' | 'signal' | 'exitCode' | 'applied' | 'rolledBack'> & {
  /** The server's SQLSTATE, when pgstore ran the file itself. */
  code?: string | undefined;
};

export function failure(
  run: FailedRun,
  session: MigrationSession,
  set: MigrationSet,
  file: MigrationFile | undefined,
  command: 'migrate' | 'rollback',
  invalidLeft: string[],
  retried: number,
): MigrationFailedError {
  const up = command === 'migrate';
  const what = file ? `migration ${file.filename} (${set.name} set)` : `dbmate (${set.name} set)`;
  const error =
    run.error ?? `dbmate ${run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`}`;
  const done = up ? run.applied : run.rolledBack;
  const before = done.length
    ? `${plural(done.length, 'migration')} ${up ? 'applied' : 'rolled back'} before it (${done.join(', ')})`
    : 'nothing else changed in this run';
  const transactional = file && (up ? file.transactional : file.downTransactional);
  // pgstore's own runs: the connection lost (unknown outcome), or the file's own COMMIT/ROLLBACK.
  const lost =
    run.code !== undefined &&
    /^(CONNECTION_|57P0[123]|08|ECONNRESET$|EPIPE$|ETIMEDOUT$|ECONNREFUSED$|EHOSTUNREACH$|ENETUNREACH$)/.test(run.code);
  const endedOurs = run.code === ENDED_ITS_TRANSACTION;
  let state: string;
  if (!file) state = 'check `pgstore migrate status`';
  else if (lost)
    state = `the connection was lost while ${file.filename} ran: whether it was ${up ? 'applied' : 'rolled back'} is not known here (a file that runs in a transaction is whole or not at all), check \`pgstore migrate status\`; ${before}`;
  else if (endedOurs)
    state = `${file.filename} ended the transaction pgstore runs it in with a COMMIT or ROLLBACK of its own: what ran before its COMMIT stays (a ROLLBACK discarded it), and it is not recorded as ${up ? 'applied' : 'rolled back'}; ${before}`;
  else if (up) {
    state = transactional
      ? `${file.filename} was rolled back as a whole (it runs in a transaction) and is not applied; ${before}`
      : `${file.filename} runs without a transaction (transaction:false), may be partly applied, and is not recorded as applied; ${before}`;
  } else {
    state = transactional
      ? `${file.filename} is still applied: its down section ran in a transaction and was undone; ${before}`
      : `${file.filename} is still recorded as applied, but its down section runs without a transaction (transaction:false) and may be partly done; ${before}`;
  }
  if (invalidLeft.length)
    state += `; the invalid index(es) ${invalidLeft.join(', ')} left by CREATE INDEX CONCURRENTLY could not be dropped: drop them with DROP INDEX CONCURRENTLY before running again`;
  const advice = adviceFor(run, { lost, endedOurs, retried });
  return new MigrationFailedError(
    `${what} failed ${up ? 'to apply' : 'to roll back'} on ${describeTarget(session.conn)}: ${error}`,
    {
      hint: `Database state: ${state}. ${advice}`,
    },
  );
}

/** What to do about a failed migration, by what stopped it. */
function adviceFor(run: FailedRun, seen: { lost: boolean; endedOurs: boolean; retried: number }): string {
  if (run.code ? run.code === LOCK_NOT_AVAILABLE : isLockTimeout(run.error))
    return `It could not get its lock within lock_timeout${seen.retried ? ` (tried ${seen.retried + 1} times)` : ''}: find the blocking session (pg_stat_activity), or raise --lock-timeout / --retries.`;
  if (seen.lost) return 'Check the server, then run the command again.';
  if (seen.endedOurs)
    return 'Remove BEGIN/COMMIT/ROLLBACK from the file (it already runs in a transaction), or mark it transaction:false.';
  if (run.code === INVALID_TRANSACTION_TERMINATION)
    return 'It commits (a procedure that COMMITs, say), which cannot happen inside the transaction the file runs in: mark the file `-- migrate:up transaction:false`.';
  if (run.code === QUERY_CANCELED)
    return 'It was cancelled: it ran longer than --statement-timeout (raise it, or split the migration), or someone cancelled it (pg_cancel_backend).';
  if (/statement timeout/i.test(run.error ?? ''))
    return 'It ran longer than --statement-timeout: raise it, or split the migration.';
  return 'Fix the file and run the command again.';
}
