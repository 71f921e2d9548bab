/**
 * Driver errors of the hosts stores, mapped: the live (ip, hostname) constraint becomes
 * DuplicateEntryError, a reused event version a version conflict; the rest as map-error.ts does.
 */
import { ConcurrentWriteConflictError, DuplicateEntryError } from '../../errors.js';
import { type ErrorContext, mapDbError } from '../map-error.js';

export const HOSTS_CONTEXT: ErrorContext = {
  entity: 'host',
  uniqueFields: { host_events_event_id_key: 'event id', snapshots_pkey: 'snapshot id' },
};

interface DriverError {
  code?: string;
  message?: string;
  detail?: string;
  constraint_name?: string;
}

/** Maps an error from a hosts statement; `pairs` are the (ip, hostname) pairs it may have written. */
export function mapHostsError(
  error: unknown,
  pairs: Array<[string, string]> = [],
  ctx: ErrorContext = HOSTS_CONTEXT,
): unknown {
  const e = error as DriverError;
  if (e?.code === '23505' && e.constraint_name === 'hosts_live_ip_hostname_key') {
    const [ip, hostname] = duplicatePair(e.detail ?? '', pairs);
    return new DuplicateEntryError(ip, hostname, { cause: error });
  }
  if (e?.code === '23505' && e.constraint_name === 'host_events_aggregate_version_key') {
    return new ConcurrentWriteConflictError('version conflict: the host already has an event with this event version', {
      cause: error,
      hint: 'Another writer used the same event version; reload the host and retry with a new one.',
    });
  }
  return mapDbError(error, ctx);
}

/** The (ip, hostname) of "Key (ip_address, hostname)=(1.2.3.4, a.example) already exists." */
function duplicatePair(detail: string, pairs: Array<[string, string]>): [string, string] {
  const inner = /^Key \(ip_address, hostname\)=\(([\s\S]*)\) already exists\.?$/.exec(detail)?.[1];
  if (inner === undefined) return pairs.length === 1 ? pairs[0]! : ['?', '?'];
  const known = pairs.find(([ip, hostname]) => `${ip}, ${hostname}` === inner);
  if (known) return known;
  const comma = inner.indexOf(', ');
  return comma < 0 ? [inner, '?'] : [inner.slice(0, comma), inner.slice(comma + 2)];
}

/** Runs a hosts store operation, mapping driver errors. */
export async function guardHosts<T>(
  op: () => Promise<T>,
  pairs?: () => Array<[string, string]>,
  ctx?: ErrorContext,
): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw mapHostsError(error, pairs?.() ?? [], ctx);
  }
}
