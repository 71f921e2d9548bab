/**
 * The hosts event store. Appends are checked in the database: the host_events_apply
 * trigger compares each event's expected_version with the aggregate's latest version under
 * a row lock (so two concurrent writers with the same expected version cannot both win) and
 * applies the events to the hosts.hosts projection in the same statement.
 *
 * Stored as given: the library does not validate IP addresses or hostnames (Unicode names,
 * quotes, anything a caller's own rules allow); the pgstore commands do (core/hosts/validation.ts).
 */
import { ValidationError } from '../../errors.js';
import { guardHosts } from './errors.js';
import { type BatchItem, type EventEnvelope, reviveEvent } from './types.js';
import { atomic, type Queryable } from '../queryable.js';
import { copyEvents } from './events-copy.js';
import { insertEvents } from './events-insert.js';

/** From this many events, appendBatch uses COPY rather than one INSERT. */
const COPY_THRESHOLD = 1000;

interface EventRow {
  event_id: string;
  aggregate_id: string;
  event_version: string;
  created_at: Date;
  created_by: string | null;
  event: Record<string, unknown>;
}

/** The event store on `sql` (a pool or a transaction). */
export function createHostEventsStore(sql: Queryable) {
  return {
    /** Appends one event; `expectedVersion` null means the aggregate must not exist yet. */
    async appendEvent(aggregateId: string, envelope: EventEnvelope, expectedVersion: string | null): Promise<void> {
      await this.appendEvents(aggregateId, [envelope], expectedVersion);
    },

    /** Appends events atomically: the first must follow `expectedVersion`, each next one the previous. */
    async appendEvents(aggregateId: string, envelopes: EventEnvelope[], expectedVersion: string | null): Promise<void> {
      if (envelopes.length === 0) return;
      let expected = expectedVersion;
      const items: BatchItem[] = envelopes.map((envelope) => {
        if (envelope.aggregateId !== aggregateId) {
          throw new ValidationError(
            `event ${envelope.eventId} belongs to host ${envelope.aggregateId}, not ${aggregateId}`,
            { field: 'aggregateId' },
          );
        }
        const item = { envelope, expectedVersion: expected };
        expected = envelope.eventVersion;
        return item;
      });
      await insertEvents(sql, items);
    },

    /**
     * Appends events of many aggregates, all or nothing, each with its own expected version.
     * Large batches go through one COPY (the database checks and applies them as one set);
     * `onProgress` gets the number of events sent so far.
     */
    async appendBatch(items: BatchItem[], options: { onProgress?: (done: number) => void } = {}): Promise<void> {
      if (items.length === 0) return;
      if (items.length < COPY_THRESHOLD) {
        await insertEvents(sql, items);
        options.onProgress?.(items.length);
        return;
      }
      await atomic(sql, (tx) => copyEvents(tx, items, options.onProgress));
    },

    /** The aggregate's events in append order; [] when it has none. */
    async loadEvents(aggregateId: string): Promise<EventEnvelope[]> {
      const rows = await guardHosts(
        () => sql<EventRow[]>`
          select event_id, aggregate_id, event_version, created_at, created_by, event
          from hosts.host_events
          where aggregate_id = ${aggregateId}
          order by seq`,
      );
      return rows.map(toEnvelope);
    },

    /** The aggregate's latest version (its last appended event's eventVersion); null when unknown. */
    async getCurrentVersion(aggregateId: string): Promise<string | null> {
      const [row] = await guardHosts(
        () => sql<{ version: string }[]>`select version from hosts.streams where aggregate_id = ${aggregateId}`,
      );
      return row?.version ?? null;
    },

    /** The latest versions of these aggregates (unknown ones are absent). */
    async getCurrentVersions(aggregateIds: string[]): Promise<Map<string, string>> {
      if (aggregateIds.length === 0) return new Map();
      const rows = await guardHosts(
        () => sql<{ aggregate_id: string; version: string }[]>`
          select s.aggregate_id, s.version
          from hosts.streams s
          where s.aggregate_id in (select jsonb_array_elements_text(${JSON.stringify(aggregateIds)}::text::jsonb))`,
      );
      return new Map(rows.map((r) => [r.aggregate_id, r.version]));
    },

    /** How many events the aggregate has (deleted entries included); 0 when unknown. */
    async countEvents(aggregateId: string): Promise<number> {
      const [row] = await guardHosts(
        () => sql<{ event_count: number }[]>`select event_count from hosts.streams where aggregate_id = ${aggregateId}`,
      );
      return row?.event_count ?? 0;
    },

    /** The position of the latest event in the whole log (0 when empty): a snapshot's eventLogPosition. */
    async lastPosition(): Promise<number> {
      const [row] = await guardHosts(
        () => sql<{ seq: string | null }[]>`select max(seq)::text as seq from hosts.host_events`,
      );
      return Number(row?.seq ?? 0);
    },
  };
}

export type HostEventsStore = ReturnType<typeof createHostEventsStore>;

function toEnvelope(row: EventRow): EventEnvelope {
  return {
    eventId: row.event_id,
    aggregateId: row.aggregate_id,
    eventVersion: row.event_version,
    createdAt: row.created_at,
    createdBy: row.created_by,
    event: reviveEvent(typeof row.event === 'string' ? JSON.parse(row.event) : row.event),
  };
}
