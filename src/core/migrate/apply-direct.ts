/**
 * pgstore's own migration set, applied (and rolled back) by pgstore itself on its migration
 * session, with dbmate's semantics (store/admin/migration-run.ts), instead of by a dbmate
 * process. Its files are pgstore's: no project runs dbmate on them, so nothing relies on dbmate
 * doing it, and dbmate's process and its two connections were most of what `migrate up` and
 * `setup` added on a new database (README, "Migrations"). The application's set stays with
 * dbmate, where a project's own dbmate runs the same files.
 *
 * What dbmate's runs get, these get too: the session's role (the database owner's), the
 * server's search_path (the direct run is used only when the URL sets none, else dbmate runs
 * the set), lock_timeout and statement_timeout, retries of a lock timeout with backoff, and the
 * invalid index of a failed CREATE INDEX CONCURRENTLY dropped. A lock timeout is known by its
 * SQLSTATE (55P03), whatever the server's language.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runMigrationSection } from '../../store/admin/index.js';
import {
  type ApplyReport,
  backOff,
  canRerun,
  DEFAULT_RETRIES,
  dropInvalid,
  failure,
  LOCK_NOT_AVAILABLE,
} from './apply.js';
import type { MigrationFile } from './files.js';
import type { MigrationSet } from './sets.js';
import { DEFAULT_LOCK_TIMEOUT_MS, type MigrateOptions, type MigrationSession } from './session.js';
import { sectionInPlace, sqlErrorText } from '../sql-statements.js';

/** Whether pgstore runs this set itself: pgstore's own, when the session has the server's search_path. */
export function runsDirect(session: Pick<MigrationSession, 'conn'>, set: Pick<MigrationSet, 'name'>): boolean {
  const { params } = session.conn;
  return set.name === 'pgstore' && params.search_path === undefined && !/search_path/i.test(params.options ?? '');
}

/**
 * Applies `files` (`migrate`, oldest first) or rolls them back (`rollback`, in the order given)
 * one at a time, each on its own (a failure stops the run; those before it stay). Returns the
 * file names done; throws MigrationFailedError naming the file, its set and the database's state.
 */
export async function runSetDirect(
  session: MigrationSession,
  set: MigrationSet,
  command: 'migrate' | 'rollback',
  files: MigrationFile[],
  options: MigrateOptions,
  report: ApplyReport,
  onApplied: (files: MigrationFile[]) => Promise<void>,
  onEach?: (file: MigrationFile) => void,
): Promise<{ applied: string[]; rolledBack: string[] }> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  const settings = {
    lockTimeoutMs: options.pgLockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    statementTimeoutMs: options.statementTimeoutMs,
  };
  const up = command === 'migrate';
  const done: string[] = [];
  const outcome = () => (up ? { applied: done, rolledBack: [] } : { applied: [], rolledBack: done });
  for (const file of files) {
    // Read again, as dbmate would: what runs is what the row's checksum describes.
    const text = readFileSync(file.path, 'utf8');
    const row = { version: file.version, filename: file.filename, sha256: sha256(text) };
    const section = sectionInPlace(text, up ? 'up' : 'down') ?? '';
    const transactional = up ? file.transactional : file.downTransactional;
    let invalidLeft: string[] = [];
    let lastError: unknown;
    const failed = (attempt: number) =>
      failure(
        {
          ...outcome(),
          error: lastError === undefined ? undefined : sqlErrorText(lastError, section),
          code: (lastError as { code?: string } | undefined)?.code,
          signal: undefined,
          exitCode: undefined,
        },
        session,
        set,
        file,
        command,
        invalidLeft,
        attempt,
      );
    for (let attempt = 0; ; attempt++) {
      if (invalidLeft.length) {
        // The index a failed CREATE INDEX CONCURRENTLY left must go before the file runs again.
        invalidLeft = (await dropInvalid(session, file, options, report)).left;
        if (invalidLeft.length) {
          if (attempt >= retries) throw failed(attempt);
          await backOff(set, file, attempt, retries, 'its invalid index could not be dropped yet', report, options);
          continue;
        }
      }
      try {
        await runMigrationSection(session.sql, set.table, row, section, up ? 'up' : 'down', transactional, settings);
        break;
      } catch (error) {
        lastError = error;
        // (A drop that fails too, the server gone, must not hide the file's own error.)
        invalidLeft =
          up && !transactional
            ? (await dropInvalid(session, file, options, report).catch(() => ({ left: [] as string[] }))).left
            : [];
        const retryable = (error as { code?: string }).code === LOCK_NOT_AVAILABLE && canRerun(file, command);
        if (!retryable || attempt >= retries) throw failed(attempt);
        await backOff(set, file, attempt, retries, sqlErrorText(error, section), report, options);
      }
    }
    done.push(file.filename);
    await onApplied([file]);
    onEach?.(file);
  }
  return outcome();
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
