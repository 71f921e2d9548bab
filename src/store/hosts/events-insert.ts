/**
 * Appending host events with one INSERT, and the checks an envelope passes first: used by the
 * event store (events.ts) and, as the fallback that reports the trigger's real error, by the
 * COPY path (events-copy.ts).
 */
import { ValidationError } from '../../errors.js';
import { guardHosts } from './errors.js';
import {
  type BatchItem,
  type EventEnvelope,
  eventForJson,
  HOST_EVENT_TYPES,
  type HostEvent,
  isoFormatter,
} from './types.js';
import type { Queryable } from '../queryable.js';

/**
 * One INSERT of all `items`, in order; the trigger checks and applies them as a set. The
 * rows travel as one JSON array of arrays (compact: no repeated keys), dates as ISO strings.
 */
export function insertEvents(sql: Queryable, items: BatchItem[]): Promise<void> {
  const iso = isoFormatter();
  const rows = items.map(({ envelope, expectedVersion }) => {
    checkEnvelope(envelope);
    return [
      envelope.eventId,
      envelope.aggregateId,
      envelope.event.type,
      envelope.eventVersion,
      expectedVersion,
      eventForJson(envelope.event, iso),
      iso(envelope.createdAt),
      envelope.createdBy ?? null,
    ];
  });
  const payload = JSON.stringify(rows);
  return guardHosts(
    async () => {
      await sql`
        insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, expected_version, event, created_at, created_by)
        select r ->> 0, r ->> 1, r ->> 2, r ->> 3, r ->> 4, r -> 5, (r ->> 6)::timestamptz, r ->> 7
        from jsonb_array_elements(${payload}::text::jsonb) with ordinality as t(r, n)
        order by t.n`;
    },
    () => items.flatMap(({ envelope: { event } }) => pairOf(event)),
  );
}

/** The (ip, hostname) an event may create. */
export function pairOf(event: HostEvent): Array<[string, string]> {
  return event.type === 'HostCreated' ? [[event.ipAddress, event.hostname]] : [];
}

/** Throws ValidationError for an envelope the database would refuse. */
export function checkEnvelope(envelope: EventEnvelope): void {
  const problem = (field: string, message: string) => new ValidationError(`host event: ${message}`, { field });
  if (!envelope || typeof envelope !== 'object') throw problem('envelope', 'an event envelope is required');
  if (typeof envelope.eventId !== 'string' || envelope.eventId === '') throw problem('eventId', 'eventId is required');
  if (typeof envelope.aggregateId !== 'string' || envelope.aggregateId === '')
    throw problem('aggregateId', 'aggregateId is required');
  if (typeof envelope.eventVersion !== 'string' || envelope.eventVersion === '')
    throw problem('eventVersion', 'eventVersion is required');
  if (!(envelope.createdAt instanceof Date) || Number.isNaN(envelope.createdAt.getTime()))
    throw problem('createdAt', 'createdAt must be a valid Date');
  if (!envelope.event || !HOST_EVENT_TYPES.includes(envelope.event.type)) {
    throw problem('event.type', `unknown event type '${String(envelope.event?.type)}'`);
  }
}
