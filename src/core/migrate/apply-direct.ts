/**
 * The migration engine pgstore uses by default: the files applied (and rolled back) by pgstore
 * itself on its migration session, with dbmate's semantics (store/admin/migration-run.ts),
 * rather than by a dbmate process (`--engine dbmate`, apply.ts). The same files, the same
 * history tables and rows (dbmate and pgstore take turns on a database), the same schema
 * (tested against dbmate on the same files); what changes is the cost: no process, no
 * connection of its own, one round trip per file, with the file's checksum in its row's
 * transaction. dbmate's process and its two connections were most of what `migrate up` and
 * `setup` added to a run (README, "Migrations").
 *
 * What dbmate's runs get, these get too: the session's role (the database owner's), the URL's
 * search_path for the application's set and the server's for pgstore's (dbmate runs pgstore's
 * set when the URL sets one), lock_timeout and statement_timeout, retries of a lock timeout
 * with backoff, and the invalid index of a failed CREATE INDEX CONCURRENTLY dropped. A lock
 * timeout is known by its SQLSTATE (55P03), whatever the server's language.
 */
import { readFileSync } from 'node:fs';
import { runMigrationAlone, runMigrationBatch } from '../../store/admin/index.js';
import {
  type ApplyReport,
  backOff,
  canRerun,
  DEFAULT_RETRIES,
  dropInvalid,
  failure,
  LOCK_NOT_AVAILABLE,
} from './apply.js';
import { fileChecksum, type MigrationFile } from './files.js';
import type { MigrationSet } from './sets.js';
import { DEFAULT_LOCK_TIMEOUT_MS, type MigrateOptions, type MigrationSession } from './session.js';
import { sectionInPlace, sqlErrorText, statementsOf } from '../sql-statements.js';
import { UsageError } from '../../errors.js';

/**
 * Whether pgstore runs this set itself: with the default engine (`--engine pgstore`), always
 * for the application's set, and for pgstore's own when the session has the server's
 * search_path (which that set must run with); `--engine dbmate` runs both through dbmate.
 */
export function runsDirect(
  session: Pick<MigrationSession, 'conn' | 'engine'>,
  set: Pick<MigrationSet, 'name'>,
): boolean {
  if (session.engine === 'dbmate') return false;
  if (set.name === 'app') return true;
  const { params } = session.conn;
  return params.search_path === undefined && !/search_path/i.test(params.options ?? '');
}

/**
 * Applies `files` (`migrate`, oldest first) or rolls them back (`rollback`, in the order given)
 * one at a time, each on its own (a failure stops the run; those before it stay). Returns the
 * file names done; throws MigrationFailedError naming the file, its set and the database's state.
 * Returns undefined, having run nothing, when a file needs dbmate (fileNeedingDbmate): the
 * caller runs the set through dbmate instead.
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
): Promise<{ applied: string[]; rolledBack: string[] } | undefined> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  const settings = {
    lockTimeoutMs: options.pgLockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    statementTimeoutMs: options.statementTimeoutMs,
  };
  const up = command === 'migrate';
  // Read (and checked) before any is run: what runs is what each row's checksum describes.
  const texts = files.map(readText);
  const resetting = fileNeedingDbmate(files, texts);
  if (resetting) {
    options.log?.(
      `${resetting.filename} resets the session's role or settings: the ${set.name} set runs through dbmate this time, whose sessions start as the owner role.`,
    );
    return undefined;
  }
  refuseUnrunnable(files, texts, up ? 'up' : 'down');
  const done: string[] = [];
  const outcome = () => (up ? { applied: done, rolledBack: [] } : { applied: [], rolledBack: done });
  const prepared = files.map((file, index) => {
    const text = texts[index]!;
    return {
      file,
      row: { version: file.version, filename: file.filename, sha256: fileChecksum(text) },
      section: sectionInPlace(text, up ? 'up' : 'down') ?? '',
      transactional: up ? file.transactional : file.downTransactional,
      attempts: 0,
    };
  });
  const failed = (at: (typeof prepared)[number], error: unknown, invalidLeft: string[]) =>
    failure(
      {
        ...outcome(),
        error: error === undefined ? undefined : sqlErrorText(error, at.section),
        code: (error as { code?: string } | undefined)?.code,
        signal: undefined,
        exitCode: undefined,
      },
      session,
      set,
      at.file,
      command,
      invalidLeft,
      at.attempts,
    );
  const finished = async (count: number, from: number) => {
    for (const { file } of prepared.slice(from, from + count)) {
      done.push(file.filename);
      await onApplied([file]);
    }
  };
  let index = 0;
  while (index < prepared.length) {
    const at = prepared[index]!;
    if (!at.transactional) {
      await runAlone(at);
      await finished(1, index);
      onEach?.(at.file);
      index++;
      continue;
    }
    // The transactional files from here on go out together (runMigrationBatch).
    let end = index;
    while (end < prepared.length && prepared[end]!.transactional) end++;
    const batch = prepared.slice(index, end);
    const result = await runMigrationBatch(
      session.sql,
      set.table,
      batch.map((b) => ({ file: b.row, section: b.section })),
      up ? 'up' : 'down',
      settings,
      onEach ? (i) => onEach(batch[i]!.file) : undefined,
    );
    await finished(result.done, index);
    index += result.done;
    if (result.error === undefined) continue;
    const stopped = prepared[index]!;
    const retryable = (result.error as { code?: string }).code === LOCK_NOT_AVAILABLE;
    if (!retryable || stopped.attempts >= retries) throw failed(stopped, result.error, []);
    await backOff(
      set,
      stopped.file,
      stopped.attempts,
      retries,
      sqlErrorText(result.error, stopped.section),
      report,
      options,
    );
    stopped.attempts++;
  }
  return outcome();

  /** A transaction:false file, on its own: retried when it is one statement, its invalid index dropped. */
  async function runAlone(at: (typeof prepared)[number]): Promise<void> {
    const { file, row, section } = at;
    let invalidLeft: string[] = [];
    let lastError: unknown;
    for (; ; at.attempts++) {
      if (invalidLeft.length) {
        // The index a failed CREATE INDEX CONCURRENTLY left must go before the file runs again.
        invalidLeft = (await dropInvalid(session, file, options, report)).left;
        if (invalidLeft.length) {
          if (at.attempts >= retries) throw failed(at, lastError, invalidLeft);
          await backOff(set, file, at.attempts, retries, 'its invalid index could not be dropped yet', report, options);
          continue;
        }
      }
      try {
        await runMigrationAlone(session.sql, set.table, row, section, up ? 'up' : 'down', settings);
        return;
      } catch (error) {
        lastError = error;
        // (A drop that fails too, the server gone, must not hide the file's own error.)
        invalidLeft = up
          ? (await dropInvalid(session, file, options, report).catch(() => ({ left: [] as string[] }))).left
          : [];
        const retryable = (error as { code?: string }).code === LOCK_NOT_AVAILABLE && canRerun(file, command);
        if (!retryable || at.attempts >= retries) throw failed(at, error, invalidLeft);
        await backOff(set, file, at.attempts, retries, sqlErrorText(error, section), report, options);
      }
    }
  }
}

/**
 * Refused before anything runs, with where they are:
 * - COPY ... FROM STDIN waits for the client to send the rows, which no migration runner does
 *   (dbmate's driver fails on it too);
 * - in a section that runs in a transaction, a statement that ends it (COMMIT, END, ROLLBACK,
 *   ABORT, PREPARE TRANSACTION): what ran before it would stay without the file's row (dbmate
 *   fails after it, or records the file half done). A savepoint's ROLLBACK TO is fine.
 */
function refuseUnrunnable(files: MigrationFile[], texts: string[], direction: 'up' | 'down'): void {
  const copies: string[] = [];
  const enders: string[] = [];
  for (const [index, text] of texts.entries()) {
    const file = files[index]!;
    const transactional = direction === 'up' ? file.transactional : file.downTransactional;
    const mayCopy = /\bcopy\b[\s\S]*\bstdin\b/i.test(text);
    const mayEnd = transactional && /\b(commit|end|rollback|abort|prepare)\b/i.test(text);
    if (!mayCopy && !mayEnd) continue;
    for (const statement of statementsOf(sectionInPlace(text, direction) ?? '')) {
      const where = `${file.filename}:${statement.line}`;
      if (mayCopy && /^copy\b[\s\S]*\bfrom\s+stdin\b/i.test(statement.text)) copies.push(where);
      if (
        mayEnd &&
        /^(commit|end|abort|rollback(?!\s+(work\s+|transaction\s+)?to\b)|prepare\s+transaction)\b/i.test(statement.text)
      )
        enders.push(where);
    }
  }
  if (copies.length)
    throw new UsageError(`COPY ... FROM STDIN cannot run in a migration: ${copies.join(', ')}`, {
      hint: 'Nothing was applied. Load the rows with INSERT ... VALUES, or COPY FROM a file the server can read.',
    });
  if (enders.length)
    throw new UsageError(`a statement ends the transaction its migration runs in: ${enders.join(', ')}`, {
      hint: 'Nothing was applied. Remove it (the file already runs in a transaction), or mark the file `-- migrate:up transaction:false`.',
    });
}

/**
 * A file that resets the session's role or settings (RESET ROLE, SET ROLE NONE, RESET ALL,
 * SESSION AUTHORIZATION) behaves as under dbmate only on a session whose defaults are the
 * owner role and the timeouts: dbmate's, which gets them as startup options. pgstore's session
 * switched role with SET ROLE, so such a set is run by dbmate. Returns the first such file
 * (`texts`: the files' texts, when read already).
 */
export function fileNeedingDbmate(
  files: MigrationFile[],
  texts: string[] = files.map(readText),
): MigrationFile | undefined {
  return files.find((_, index) =>
    /^\s*(reset\s+(role|all|session\s+authorization)|set\s+role\s+(none|default)|set\s+session\s+authorization)\b/im.test(
      texts[index]!,
    ),
  );
}

const readText = (file: MigrationFile) => readFileSync(file.path, 'utf8');
