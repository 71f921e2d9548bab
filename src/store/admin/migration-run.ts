/**
 * One migration file applied or rolled back on pgstore's own session, with dbmate's semantics
 * (pkg/dbmate/db.go): a transactional section runs in one transaction together with its history
 * row (inserted, or deleted for a rollback); a `transaction:false` section runs as one query,
 * then its row is written. Here the row also carries the file's checksum, in the same
 * transaction: there is no moment when a version is recorded without it.
 *
 * A transactional file is one round trip: BEGIN (with the session's timeouts as SET LOCAL),
 * the section, the row and COMMIT, pipelined. When the section fails, the row's statement
 * fails too (the transaction is aborted) and COMMIT of an aborted transaction rolls it back:
 * nothing of the file stays. The section is sent as a simple query, as dbmate sends it, so
 * several statements run in it.
 */
import { clientGoneCheckSql } from '../../db/client-gone.js';
import { sqlLiteral } from '../../db/literal.js';
import type { Db } from '../../db/pool.js';
import { type MigrationTable, qualified } from './migration-log.js';

export interface DirectRunFile {
  version: string;
  sha256: string;
  filename: string;
}

export interface DirectRunSettings {
  /** lock_timeout for the section, in ms (0: none). */
  lockTimeoutMs: number;
  /** statement_timeout for the section, in ms (undefined: the session's). */
  statementTimeoutMs?: number | undefined;
}

/**
 * `set [local] lock_timeout = …; set [local] statement_timeout = …`, and on PostgreSQL 14 and
 * later client_connection_check_interval (db/client-gone.ts): a migration whose pgstore was
 * stopped (SIGTERM, Ctrl+C) stops on the server within a second, its locks with it, rather
 * than running on to its end.
 */
function settingsSql(settings: DirectRunSettings, local: boolean): string {
  const scope = local ? 'set local' : 'set';
  const parts = [`${scope} lock_timeout = ${Math.max(0, Math.round(settings.lockTimeoutMs))}`];
  if (settings.statementTimeoutMs !== undefined)
    parts.push(`${scope} statement_timeout = ${Math.max(0, Math.round(settings.statementTimeoutMs))}`);
  parts.push(clientGoneCheckSql(1000, local));
  return parts.join('; ');
}

const recordSql = (table: MigrationTable, file: DirectRunFile) =>
  `insert into ${qualified(table)} (version, applied_at, sha256, filename)
   values (${sqlLiteral(file.version)}, now(), ${sqlLiteral(file.sha256)}, ${sqlLiteral(file.filename)})`;

const forgetSql = (table: MigrationTable, file: DirectRunFile) =>
  `delete from ${qualified(table)} where version = ${sqlLiteral(file.version)}`;

/** Whether the server reported the error (a SQLSTATE, not the driver's CONNECTION_* code). */
const sqlState = (error: { code?: string } | undefined) => /^[0-9A-Z]{5}$/.test(error?.code ?? '');

/**
 * A statement that fails with `message` when `condition` holds, without plpgsql: a cast of the
 * message to int. The text is not a constant (the mark appended, empty or not), or the
 * planner would fold the cast and raise whatever the condition.
 */
const refuseWhen = (condition: string, message: string) =>
  `select case when ${condition} then (${sqlLiteral(`pgstore: ${message} `)} || coalesce(current_setting(${sqlLiteral(MARK)}, true), ''))::int end`;

/** The guard's SQLSTATE (pgstore's own): the file ended the transaction pgstore ran it in. */
export const ENDED_ITS_TRANSACTION = 'PGSM1';

/** The custom setting that marks pgstore's transaction (SET LOCAL: gone when it ends). */
const MARK = 'pgstore.migration';

/**
 * The row's statement in a transactional run, guarded: a section that ends pgstore's
 * transaction itself (its own COMMIT or ROLLBACK) must not have its version recorded by a
 * statement that would then run on its own. dbmate, which sends the row only after the
 * section succeeded, records nothing then either.
 */
const guarded = (bookkeeping: string, file: DirectRunFile) => {
  const version = sqlLiteral(file.version);
  return `do $pgstore$ begin
  if current_setting(${sqlLiteral(MARK)}, true) is distinct from ${version} then
    raise exception 'the migration ended the transaction pgstore runs it in (a COMMIT, ROLLBACK or RESET ALL of its own): its version is not recorded'
      using errcode = 'PGSM1', hint = 'Remove BEGIN/COMMIT/ROLLBACK from the file: it already runs in a transaction (or mark it transaction:false).';
  end if;
  ${bookkeeping};
end $pgstore$`;
};

export interface MigrationRunItem {
  file: DirectRunFile;
  /** The up or down SQL, in place (store/core sectionInPlace): line 1 is blank. */
  section: string;
}

/**
 * Runs transactional sections one after another, pipelined: every file's queries go out at
 * once, each file in its own transaction (BEGIN, the section, the guarded row, COMMIT), so the
 * server goes from one file to the next without waiting for pgstore between them. A file
 * starts only if the one before it is recorded (applied, or rolled back): its BEGIN checks the
 * row, and after any failure the connection's transaction stays aborted, so every later
 * file's statements are refused until the ROLLBACK sent at the end. `onDone(i)` as item i
 * commits. Returns how many committed, in order, and the first failing item's error.
 */
export async function runMigrationBatch(
  sql: Db,
  table: MigrationTable,
  items: MigrationRunItem[],
  direction: 'up' | 'down',
  settings: DirectRunSettings,
  onDone?: (index: number) => void,
): Promise<{ done: number; error?: unknown }> {
  const queries = items.map((item, index) => {
    const version = sqlLiteral(item.file.version);
    const before = index > 0 ? items[index - 1]!.file.version : undefined;
    // The previous file's row, as its run leaves it (present after `up`, gone after `down`).
    const previous =
      before === undefined
        ? ''
        : `; ${refuseWhen(
            `${direction === 'up' ? 'not ' : ''}exists (select from ${qualified(table)} where version = ${sqlLiteral(before)})`,
            `the migration before this one did not complete: ${before}`,
          )}`;
    // BEGIN READ WRITE, as dbmate's driver sends it: a database whose
    // default_transaction_read_only is on migrates all the same. The section's query starts
    // with a check that the mark is set (on its first line, blank in a section in place: line
    // numbers stay the file's): the section never runs outside its file's transaction.
    const check = `${refuseWhen(`current_setting(${sqlLiteral(MARK)}, true) is distinct from ${version}`, "not in the migration's transaction")};`;
    const firstBreak = item.section.indexOf('\n');
    const firstLine = firstBreak === -1 ? item.section : item.section.slice(0, firstBreak);
    const body = /\S/.test(firstLine) ? `${check}\n${item.section}` : `${check}${item.section}`;
    const bookkeeping = direction === 'up' ? recordSql(table, item.file) : forgetSql(table, item.file);
    // execute(): postgres.js sends a query when it is first awaited, which allSettled does a
    // microtask later; these go out now, in this order, whoever awaits them first.
    const sent = [
      sql
        .unsafe(`begin read write; ${settingsSql(settings, true)}; set local ${MARK} = ${version}${previous}`)
        .execute(),
      // forEach: rows a section's SELECTs return are dropped as they come, as dbmate's driver
      // drops them (a backfill's `select fn(id) from big` must not pile up in memory).
      sql.unsafe(body).forEach(() => undefined),
      // After a failure above, the guard is refused (aborted) and COMMIT, skipped, stays unsent.
      sql.unsafe(`${guarded(bookkeeping, item.file)}; commit`).execute(),
    ];
    return { sent, offset: body.length - item.section.length };
  });
  const settling = Promise.all(queries.map((q) => Promise.allSettled(q.sent)));
  if (onDone)
    for (const [index, q] of queries.entries())
      q.sent[2]!.then(
        () => onDone(index),
        () => undefined,
      );
  const settled = await settling;
  const done = settled.findIndex((results) => results.some((r) => r.status === 'rejected'));
  if (done === -1) return { done: items.length };
  // The failing file's transaction, and every one after it, ends here (a warning only when
  // none is open).
  await sql.unsafe('rollback').catch(() => undefined);
  return { done, error: fileError(settled[done]!, queries[done]!.offset) };
}

/** The error to report for a file: its own first one, told apart from the guard's. */
function fileError(results: PromiseSettledResult<unknown>[], offset: number): unknown {
  const rejected = (i: number) =>
    results[i]!.status === 'rejected' ? (results[i] as PromiseRejectedResult).reason : undefined;
  const sectionError = rejected(1);
  if (sectionError && Number(sectionError.position) > 0)
    // A position in the section as the caller has it (without the check's prefix).
    sectionError.position = String(Math.max(1, Number(sectionError.position) - offset));
  const guardError = rejected(2);
  // The file failed after a COMMIT or ROLLBACK of its own (the guard found no mark, where an
  // aborted transaction would have refused it): say so, with the file's own error.
  if (sectionError && guardError?.code === ENDED_ITS_TRANSACTION && sqlState(sectionError))
    return Object.assign(new Error(`${sectionError.message}; ${guardError.message}`), {
      code: ENDED_ITS_TRANSACTION,
      position: sectionError.position,
    });
  return rejected(0) ?? sectionError ?? guardError;
}

/**
 * Runs a `transaction:false` section (the up or down SQL) as dbmate runs it, outside a
 * transaction: the settings, the section, and only once it succeeded, the row recorded (`up`)
 * or forgotten (`down`). Rejects with the section's own error; then nothing was recorded.
 */
export async function runMigrationAlone(
  sql: Db,
  table: MigrationTable,
  file: DirectRunFile,
  section: string,
  direction: 'up' | 'down',
  settings: DirectRunSettings,
): Promise<void> {
  const bookkeeping = direction === 'up' ? recordSql(table, file) : forgetSql(table, file);
  // Sent in this order now (execute, forEach); awaited in turn below.
  const set = sql.unsafe(settingsSql(settings, false)).execute();
  try {
    const ran = sql.unsafe(section).forEach(() => undefined); // its rows dropped, as above
    ran.catch(() => undefined); // awaited below, after the settings
    await set;
    await ran;
    await sql.unsafe(bookkeeping);
  } finally {
    await sql
      .unsafe(`reset lock_timeout; reset statement_timeout; ${clientGoneCheckSql(0, false)}`)
      .catch(() => undefined);
  }
}
