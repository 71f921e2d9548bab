/**
 * Saved hosts files. Their createdAt is the caller's: listing (newest first) and age-based
 * retention use it. getSnapshot and deleteSnapshot throw NotFoundError for an unknown id,
 * as seed 001's contract does (its storage test suites expect it).
 */
import { NotFoundError, ValidationError } from '../../errors.js';
import { guardHosts, HOSTS_CONTEXT } from './errors.js';
import type { HostEntry, Page, RetentionPolicy, Snapshot, SnapshotMetadata } from './types.js';
import type { Queryable } from '../queryable.js';
import { pageOf } from '../paging.js';

const CTX = { ...HOSTS_CONTEXT, entity: 'snapshot' };

interface SnapshotRow {
  snapshot_id: string;
  created_at: Date;
  hosts_content?: string;
  entry_count: number;
  trigger: string;
  name: string | null;
  event_log_position: string | null;
  entries?: unknown;
}

/** The snapshot store on `sql` (a pool or a transaction). */
export function createSnapshotsStore(sql: Queryable) {
  const guard = <T>(op: () => Promise<T>) => guardHosts(op, undefined, CTX);
  return {
    /** Saves a snapshot; DuplicateError when its id is taken. */
    async saveSnapshot(snapshot: Snapshot): Promise<void> {
      check(snapshot);
      const entries = snapshot.entries ? JSON.stringify(snapshot.entries) : null;
      await guard(
        () => sql`
          insert into hosts.snapshots (snapshot_id, created_at, hosts_content, entry_count, trigger, name, event_log_position, entries)
          values (${snapshot.snapshotId}, ${snapshot.createdAt.toISOString()}::timestamptz, ${snapshot.hostsContent}, ${snapshot.entryCount},
                  ${snapshot.trigger}, ${snapshot.name ?? null}, ${snapshot.eventLogPosition ?? null}::bigint, ${entries}::text::jsonb)`,
      );
    },

    /** The ids of the snapshots with this name, newest first (pgstore's addition). */
    async idsByName(name: string): Promise<string[]> {
      const rows = await guard(
        () => sql<{ snapshot_id: string }[]>`
        select snapshot_id from hosts.snapshots where name = ${name} order by created_at desc, snapshot_id desc`,
      );
      return rows.map((r) => r.snapshot_id);
    },

    /** A snapshot with its content (and entries, when saved with them); NotFoundError when unknown. */
    async getSnapshot(snapshotId: string): Promise<Snapshot> {
      const [row] = await guard(
        () => sql<SnapshotRow[]>`
          select snapshot_id, created_at, hosts_content, entry_count, trigger, name, event_log_position::text, entries::text
          from hosts.snapshots where snapshot_id = ${snapshotId}`,
      );
      if (!row) throw notFound(snapshotId);
      return {
        ...toMetadata(row),
        hostsContent: row.hosts_content ?? '',
        entries: row.entries ? reviveEntries(row.entries) : null,
      };
    },

    /** Deletes a snapshot; NotFoundError when unknown. */
    async deleteSnapshot(snapshotId: string): Promise<void> {
      const rows = await guard(
        () => sql`delete from hosts.snapshots where snapshot_id = ${snapshotId} returning snapshot_id`,
      );
      if (rows.length === 0) throw notFound(snapshotId);
    },

    /** Metadata of snapshots, newest first (by createdAt); all of them without a limit. */
    async listSnapshots(page: Page = {}): Promise<SnapshotMetadata[]> {
      const { limit, offset } = pageOf(page);
      const rows = await guard(
        () => sql<SnapshotRow[]>`
          select snapshot_id, created_at, entry_count, trigger, name, event_log_position::text
          from hosts.snapshots
          order by created_at desc, snapshot_id desc
          limit ${limit} offset ${offset}`,
      );
      return rows.map(toMetadata);
    },

    /**
     * Deletes every snapshot beyond the newest `maxCount` or older than `maxAgeDays` (by its
     * own createdAt); returns how many. No limits: nothing is deleted.
     */
    async applyRetentionPolicy(policy: RetentionPolicy = {}): Promise<number> {
      const maxCount = policy.maxCount ?? null;
      const maxAgeDays = policy.maxAgeDays ?? null;
      if (maxCount !== null && (!Number.isInteger(maxCount) || maxCount < 0))
        throw new ValidationError('maxCount must be a whole number ≥ 0', { field: 'maxCount' });
      if (maxAgeDays !== null && (!Number.isFinite(maxAgeDays) || maxAgeDays < 0))
        throw new ValidationError('maxAgeDays must be a number ≥ 0', { field: 'maxAgeDays' });
      if (maxCount === null && maxAgeDays === null) return 0;
      const now = policy.now ? policy.now.toISOString() : null;
      const rows = await guard(
        () => sql`
          with ranked as (
            select snapshot_id, created_at, row_number() over (order by created_at desc, snapshot_id desc) as position
            from hosts.snapshots
          )
          delete from hosts.snapshots s
          using ranked r
          where s.snapshot_id = r.snapshot_id
            and ((${maxCount}::bigint is not null and r.position > ${maxCount}::bigint)
              or (${maxAgeDays}::float8 is not null
                  and r.created_at < coalesce(${now}::timestamptz, now()) - ${maxAgeDays}::float8 * interval '1 day'))
          returning s.snapshot_id`,
      );
      return rows.length;
    },
  };
}

export type SnapshotsStore = ReturnType<typeof createSnapshotsStore>;

function notFound(snapshotId: string): NotFoundError {
  return new NotFoundError('snapshot', snapshotId, { hint: 'List snapshots with `pgstore snapshot list`.' });
}

function check(snapshot: Snapshot): void {
  const problem = (field: string, message: string) => new ValidationError(`snapshot: ${message}`, { field });
  if (typeof snapshot.snapshotId !== 'string' || snapshot.snapshotId === '')
    throw problem('snapshotId', 'snapshotId is required');
  if (!(snapshot.createdAt instanceof Date) || Number.isNaN(snapshot.createdAt.getTime()))
    throw problem('createdAt', 'createdAt must be a valid Date');
  if (typeof snapshot.hostsContent !== 'string') throw problem('hostsContent', 'hostsContent must be a string');
  if (!Number.isInteger(snapshot.entryCount) || snapshot.entryCount < 0)
    throw problem('entryCount', 'entryCount must be a whole number ≥ 0');
  if (typeof snapshot.trigger !== 'string' || snapshot.trigger === '') throw problem('trigger', 'trigger is required');
}

function toMetadata(row: SnapshotRow): SnapshotMetadata {
  return {
    snapshotId: row.snapshot_id,
    createdAt: row.created_at,
    entryCount: row.entry_count,
    trigger: row.trigger,
    name: row.name,
    eventLogPosition: row.event_log_position === null ? null : Number(row.event_log_position),
  };
}

function reviveEntries(raw: unknown): HostEntry[] {
  const list = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Array<
    HostEntry & { createdAt: string | Date; updatedAt: string | Date }
  >;
  return list.map((e) => ({
    ...e,
    comment: e.comment ?? null,
    aliases: e.aliases ?? [],
    tags: e.tags ?? [],
    createdAt: new Date(e.createdAt),
    updatedAt: new Date(e.updatedAt),
  }));
}
