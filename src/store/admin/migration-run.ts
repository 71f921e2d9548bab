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
  parts.push(
    `select set_config('client_connection_check_interval', '1000', ${local}) where current_setting('server_version_num')::int >= 140000`,
  );
  return parts.join('; ');
}

const recordSql = (table: MigrationTable, file: DirectRunFile) =>
  `insert into ${qualified(table)} (version, applied_at, sha256, filename)
   values (${sqlLiteral(file.version)}, now(), ${sqlLiteral(file.sha256)}, ${sqlLiteral(file.filename)})`;

const forgetSql = (table: MigrationTable, file: DirectRunFile) =>
  `delete from ${qualified(table)} where version = ${sqlLiteral(file.version)}`;

/** Whether the server reported the error (a SQLSTATE, not the driver's CONNECTION_* code). */
const sqlState = (error: { code?: string } | undefined) => /^[0-9A-Z]{5}$/.test(error?.code ?? '');

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
      using errcode = '2D000', hint = 'Remove BEGIN/COMMIT/ROLLBACK from the file: it already runs in a transaction (or mark it transaction:false).';
  end if;
  ${bookkeeping};
end $pgstore$`;
};

/**
 * Runs `section` (the up or down SQL) and records (`up`) or forgets (`down`) the file's
 * version. Rejects with the section's own error when it fails; then nothing was recorded, and
 * a transactional section left nothing behind.
 */
export async function runMigrationSection(
  sql: Db,
  table: MigrationTable,
  file: DirectRunFile,
  section: string,
  direction: 'up' | 'down',
  transactional: boolean,
  settings: DirectRunSettings,
): Promise<void> {
  const bookkeeping = direction === 'up' ? recordSql(table, file) : forgetSql(table, file);
  if (transactional) {
    // BEGIN READ WRITE, as dbmate's driver sends it: a database whose
    // default_transaction_read_only is on migrates all the same. BEGIN is a query of its own
    // (a syntax error in the section then aborts the transaction like any other error), and
    // the section's query starts with a check that the mark is set (on its first line, blank
    // in a section in place: line numbers stay the file's): the section never runs outside
    // pgstore's transaction, whatever happened to the BEGIN.
    const version = sqlLiteral(file.version);
    const check = `select case when current_setting(${sqlLiteral(MARK)}, true) is distinct from ${version} then ('pgstore: not in the migration''s transaction ' || coalesce(current_setting(${sqlLiteral(MARK)}, true), ''))::int end;`;
    const firstBreak = section.indexOf('\n');
    const firstLine = firstBreak === -1 ? section : section.slice(0, firstBreak);
    const body = /\S/.test(firstLine) ? `${check}\n${section}` : `${check}${section}`;
    const results = await Promise.allSettled([
      sql.unsafe(`begin read write; ${settingsSql(settings, true)}; set local ${MARK} = ${version}`),
      sql.unsafe(body),
      sql.unsafe(guarded(bookkeeping, file)),
      // Of an aborted transaction: a rollback. A COMMIT that fails (the connection lost, a
      // deferred constraint) ends the transaction too: nothing is left open either way. The
      // guard and COMMIT on another connection (a reconnect) find no mark: harmless.
      sql.unsafe('commit'),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failed) return;
    const sectionError = results[1].status === 'rejected' ? results[1].reason : undefined;
    if (sectionError && Number(sectionError.position) > 0)
      // A position in the section, as the caller sent it (without the check's prefix).
      sectionError.position = String(Math.max(1, Number(sectionError.position) - (body.length - section.length)));
    const guard = results[2]!;
    // The file failed after a COMMIT or ROLLBACK of its own (the guard found no mark, where an
    // aborted transaction would have refused it): say so, with the file's own error.
    if (failed !== guard && guard.status === 'rejected' && guard.reason?.code === '2D000' && sqlState(failed.reason))
      throw Object.assign(new Error(`${failed.reason.message}; ${guard.reason.message}`), {
        code: '2D000',
        position: failed.reason.position,
      });
    throw failed.reason;
  }
  // Outside a transaction, as dbmate runs it: the section, and only once it succeeded, the row.
  const set = sql.unsafe(settingsSql(settings, false));
  try {
    const ran = sql.unsafe(section);
    await set;
    await ran;
    await sql.unsafe(bookkeeping);
  } finally {
    await sql
      .unsafe(
        `reset lock_timeout; reset statement_timeout;
         select set_config('client_connection_check_interval', '0', false) where current_setting('server_version_num')::int >= 140000`,
      )
      .catch(() => undefined);
  }
}
