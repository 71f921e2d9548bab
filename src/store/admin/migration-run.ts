/**
 * One migration file applied or rolled back on pgstore's own session, with dbmate's semantics
 * (pkg/dbmate/db.go): a transactional section runs in one transaction together with its history
 * row (inserted, or deleted for a rollback); a `transaction:false` section runs as one query,
 * then its row is written. Here the row also carries the file's checksum, in the same
 * transaction: there is no moment when a version is recorded without it.
 *
 * A transactional file is one round trip: BEGIN (with the session's timeouts as SET LOCAL),
 * the section, the row and COMMIT go out pipelined. When the section fails, the row's statement
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

/** `set [local] lock_timeout = …; set [local] statement_timeout = …` */
function settingsSql(settings: DirectRunSettings, local: boolean): string {
  const scope = local ? 'set local' : 'set';
  const parts = [`${scope} lock_timeout = ${Math.max(0, Math.round(settings.lockTimeoutMs))}`];
  if (settings.statementTimeoutMs !== undefined)
    parts.push(`${scope} statement_timeout = ${Math.max(0, Math.round(settings.statementTimeoutMs))}`);
  return parts.join('; ');
}

const recordSql = (table: MigrationTable, file: DirectRunFile) =>
  `insert into ${qualified(table)} (version, applied_at, sha256, filename)
   values (${sqlLiteral(file.version)}, now(), ${sqlLiteral(file.sha256)}, ${sqlLiteral(file.filename)})`;

const forgetSql = (table: MigrationTable, file: DirectRunFile) =>
  `delete from ${qualified(table)} where version = ${sqlLiteral(file.version)}`;

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
    raise exception 'the migration ended the transaction pgstore runs it in (a COMMIT or ROLLBACK of its own): its version is not recorded'
      using hint = 'Remove BEGIN/COMMIT/ROLLBACK from the file: it already runs in a transaction (or mark it transaction:false).';
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
    const results = await Promise.allSettled([
      sql.unsafe(`begin; ${settingsSql(settings, true)}; set local ${MARK} = ${sqlLiteral(file.version)}`),
      sql.unsafe(section),
      sql.unsafe(guarded(bookkeeping, file)),
      // Of an aborted transaction: a rollback. A COMMIT that fails (the connection lost, a
      // deferred constraint) ends the transaction too: nothing is left open either way.
      sql.unsafe('commit'),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return;
  }
  // Outside a transaction, as dbmate runs it: the section, and only once it succeeded, the row.
  const set = sql.unsafe(settingsSql(settings, false));
  try {
    const ran = sql.unsafe(section);
    await set;
    await ran;
    await sql.unsafe(bookkeeping);
  } finally {
    await sql.unsafe('reset lock_timeout; reset statement_timeout').catch(() => undefined);
  }
}
