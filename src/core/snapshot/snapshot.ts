/**
 * `pgstore snapshot create|list|show|delete|prune`: saved renderings of the hosts file,
 * with the entries kept as JSON so a rollback restores aliases and tags exactly. Retention
 * runs after each create (default: the newest 50, none older than 30 days).
 */
import type { ReplicaStores } from '../../store/replica-reads.js';
import { NotFoundError, UsageError } from '../../errors.js';
import type { HostEntry, Snapshot, SnapshotMetadata } from '../../store/hosts/index.js';
import {
  type HostStores,
  inTransaction,
  type ReplicaReadOptions,
  withHostsDb,
  withReplicaReads,
} from '../hosts/index.js';
import { renderHostsFile } from '../hosts/index.js';
import { ulid } from '../hosts/index.js';
import type { CoreOptions } from '../options.js';
import { readEntries, type SnapshotProgress } from './progress.js';

export const DEFAULT_KEEP_LAST = 50;
export const DEFAULT_KEEP_DAYS = 30;

export interface CreateSnapshotOptions extends CoreOptions {
  name?: string;
  /** Keep at most this many snapshots (default 50). */
  keepLast?: number;
  /** Delete snapshots older than this many days (default 30). */
  keepDays?: number;
  now?: Date;
  /** Phases 'reading' (entries read so far), 'saving', 'committing'. */
  onProgress?: SnapshotProgress;
}

export interface CreateSnapshotResult {
  snapshot: SnapshotMetadata;
  /** Snapshots deleted by retention afterwards. */
  pruned: number;
}

/** Saves the current entries as a snapshot (trigger `manual`), then applies retention. */
export async function createSnapshot(options: CreateSnapshotOptions): Promise<CreateSnapshotResult> {
  const now = options.now ?? new Date();
  return withHostsDb(options, ({ sql }) =>
    inTransaction(
      sql,
      async (stores) => {
        const { snapshot } = await takeSnapshot(stores, {
          trigger: 'manual',
          name: options.name ?? null,
          now,
          onProgress: options.onProgress,
        });
        const pruned = await stores.snapshots.applyRetentionPolicy({
          maxCount: options.keepLast ?? DEFAULT_KEEP_LAST,
          maxAgeDays: options.keepDays ?? DEFAULT_KEEP_DAYS,
          now,
        });
        const n = snapshot.entryCount;
        options.onProgress?.({ phase: 'committing', done: n, total: n, unit: 'entries' });
        return { snapshot, pruned };
      },
      // Entries and the log position from one view of the data.
      'isolation level repeatable read',
    ),
  );
}

/**
 * Renders and saves the current entries (inside the caller's transaction). With `onProgress`,
 * `phase` ('reading' by default) counts the entries read, then `savingPhase` ('saving') waits
 * for the save.
 */
export async function takeSnapshot(
  stores: HostStores,
  options: {
    trigger: string;
    name: string | null;
    now: Date;
    onProgress?: SnapshotProgress | undefined;
    phase?: string;
    savingPhase?: string;
  },
): Promise<{ snapshot: SnapshotMetadata; entries: HostEntry[] }> {
  const entries = await readEntries(stores, options.phase ?? 'reading', options.onProgress);
  const n = entries.length;
  options.onProgress?.({ phase: options.savingPhase ?? 'saving', done: n, total: n, unit: 'entries' });
  const eventLogPosition = await stores.hostEvents.lastPosition();
  const snapshot: Snapshot = {
    snapshotId: ulid(options.now.getTime()),
    createdAt: options.now,
    hostsContent: renderHostsFile(entries, options.now),
    entryCount: entries.length,
    trigger: options.trigger,
    name: options.name,
    eventLogPosition,
    entries,
  };
  await stores.snapshots.saveSnapshot(snapshot);
  const { hostsContent: _content, entries: _entries, ...metadata } = snapshot;
  return { snapshot: { ...metadata, name: metadata.name ?? null, eventLogPosition }, entries };
}

/** Snapshot metadata, newest first. */
export async function listSnapshots(
  options: ReplicaReadOptions & { limit?: number; offset?: number },
): Promise<SnapshotMetadata[]> {
  const list = (stores: Pick<ReplicaStores, 'snapshots'>) =>
    stores.snapshots.listSnapshots({ limit: options.limit, offset: options.offset });
  if (options.replica !== undefined) return withReplicaReads({ ...options, replica: options.replica }, list);
  return withHostsDb(options, ({ stores }) => list(stores));
}

/** One snapshot with its content; NotFoundError when unknown. */
export async function showSnapshot(options: CoreOptions & { id: string }): Promise<Snapshot> {
  return withHostsDb(options, ({ stores }) => findSnapshot(stores, options.id));
}

/** Deletes a snapshot; NotFoundError when unknown. */
export async function deleteSnapshot(options: CoreOptions & { id: string }): Promise<{ snapshotId: string }> {
  return withHostsDb(options, async ({ stores }) => {
    const snapshotId = await byIdOrName(stores, options.id, async (id) => {
      await stores.snapshots.deleteSnapshot(id);
      return id;
    });
    return { snapshotId };
  });
}

/** A snapshot by its id, or by its name when that names exactly one. */
export function findSnapshot(stores: HostStores, ref: string): Promise<Snapshot> {
  return byIdOrName(stores, ref, (id) => stores.snapshots.getSnapshot(id));
}

/** `use(ref)` as an id; when no snapshot has it, `use` of the id of the one snapshot named `ref`. */
async function byIdOrName<T>(stores: HostStores, ref: string, use: (id: string) => Promise<T>): Promise<T> {
  try {
    return await use(ref);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    const ids = await stores.snapshots.idsByName(ref);
    if (ids.length === 1) return use(ids[0]!);
    if (ids.length === 0) throw error;
    throw new UsageError(
      `${ids.length} snapshots are named '${ref}': ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''}`,
      { hint: 'Give the id of the one you mean (`pgstore snapshot list`).' },
    );
  }
}

/** Applies retention now (defaults 50 snapshots / 30 days); returns how many were deleted. */
export async function pruneSnapshots(
  options: CoreOptions & { keepLast?: number; keepDays?: number; now?: Date },
): Promise<{ deleted: number; keepLast: number; keepDays: number }> {
  const keepLast = options.keepLast ?? DEFAULT_KEEP_LAST;
  const keepDays = options.keepDays ?? DEFAULT_KEEP_DAYS;
  const deleted = await withHostsDb(options, ({ stores }) =>
    stores.snapshots.applyRetentionPolicy({ maxCount: keepLast, maxAgeDays: keepDays, now: options.now }),
  );
  return { deleted, keepLast, keepDays };
}
