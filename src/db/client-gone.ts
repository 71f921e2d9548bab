/**
 * A session that stops its work when its client is gone. A backend only notices a closed
 * connection when it next reads from or writes to it, so without this a statement whose
 * client died (Ctrl+C, SIGTERM, a kill) runs to its end, holding its locks: a COPY of a large
 * import, its index builds, or a wait for a lock could go on for seconds to forever.
 * PostgreSQL 14 added client_connection_check_interval: while a statement runs, the server
 * polls the socket that often and ends the session when the client has gone away.
 */
import type { Queryable } from '../types/sql.js';

/**
 * The statement that sets client_connection_check_interval to `intervalMs` for the rest of the
 * transaction (`local`; for the session when none is open) or for the session; it does nothing
 * on servers before PostgreSQL 14. Text, so that it can go in a query with others.
 */
export function clientGoneCheckSql(intervalMs: number, local = true): string {
  return `select set_config('client_connection_check_interval', '${Math.max(0, Math.round(intervalMs))}', ${local})
    where current_setting('server_version_num')::int >= 140000`;
}

/** Sets client_connection_check_interval for the rest of the transaction `tx` (clientGoneCheckSql). */
export async function endWorkWhenClientGone(tx: Queryable, intervalMs = 1000): Promise<void> {
  await tx.unsafe(clientGoneCheckSql(intervalMs));
}
