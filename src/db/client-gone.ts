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
 * Sets client_connection_check_interval to `intervalMs` for the rest of the transaction `tx`
 * (for the session when `tx` is not in one); a no-op on servers before PostgreSQL 14.
 */
export async function endWorkWhenClientGone(tx: Queryable, intervalMs = 1000): Promise<void> {
  await tx`select set_config('client_connection_check_interval', ${String(intervalMs)}, true)
    where current_setting('server_version_num')::int >= 140000`;
}
