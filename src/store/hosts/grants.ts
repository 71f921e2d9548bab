/**
 * The application role's access to the hosts schema: it writes only through the event log.
 * It may append events (INSERT on hosts.host_events, without choosing seq or recorded_at), read
 * the log, the streams and the projection, and keep snapshots (save, read, delete); the
 * host_events_apply trigger, running as the tables' owner (SECURITY DEFINER, see migration
 * 20261205000001), is what writes hosts.streams and hosts.hosts. What this grants is what
 * store/hosts/events.ts, host-events-copy.ts (COPY needs INSERT on its columns), hosts.ts and
 * snapshots.ts do; the bulk load of store/admin/bulk-load.ts needs the owner, and the checked path
 * is taken without it (claimEmptyHosts).
 *
 * Idempotent, and it replaces what earlier versions of setup granted (DML on every table,
 * EXECUTE on every function, and the same by default for future tables), in one transaction.
 */
import type { Db } from '../../db/pool.js';

/** The columns of hosts.host_events an append names. */
const EVENT_COLUMNS = [
  'event_id',
  'aggregate_id',
  'event_type',
  'event_version',
  'expected_version',
  'event',
  'metadata',
  'created_at',
  'created_by',
];

export async function grantHostsAccess(sql: Db, options: { app: string; owner: string }): Promise<void> {
  const app = sql(options.app);
  const owner = sql(options.owner);
  await sql.begin(async (tx) => {
    await tx`grant usage on schema hosts to ${app}`;
    await tx`revoke all on all tables in schema hosts from ${app}`;
    await tx`revoke all on all sequences in schema hosts from ${app}`;
    await tx`revoke all on all functions in schema hosts from ${app}`;
    await tx`alter default privileges for role ${owner} in schema hosts revoke all on tables from ${app}`;
    await tx`alter default privileges for role ${owner} in schema hosts revoke all on sequences from ${app}`;
    await tx`alter default privileges for role ${owner} in schema hosts revoke all on functions from ${app}`;
    // Functions are executable by PUBLIC by default: a later function in hosts is not.
    await tx`alter default privileges for role ${owner} in schema hosts revoke execute on functions from public`;

    await tx`grant select on hosts.host_events, hosts.streams, hosts.hosts to ${app}`;
    await tx`grant insert (${sql(EVENT_COLUMNS)}) on hosts.host_events to ${app}`;
    await tx`grant usage on sequence hosts.host_events_seq_seq to ${app}`;
    await tx`grant select, insert, delete on hosts.snapshots to ${app}`;
    // Time travel (store/hosts/hosts.ts, asOf); they read host_events with the caller's rights.
    await tx`grant execute on function hosts.fold_at(timestamptz), hosts.fold_events(timestamptz), hosts.jsonb_text_array(jsonb) to ${app}`;
    // A table added to hosts later is readable; any write to it must be granted here.
    await tx`alter default privileges for role ${owner} in schema hosts grant select on tables to ${app}`;
  });
}
