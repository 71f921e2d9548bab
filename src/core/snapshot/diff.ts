/**
 * `pgstore snapshot diff` and `snapshot rollback`. A diff compares entries by (ip, hostname):
 * added, removed, changed (aliases, comment, tags). A rollback first saves a `pre-rollback`
 * snapshot, then makes the entries equal to the snapshot's, all in one transaction and as
 * events (deletes, changes, re-creations), so history is kept and nothing is half done.
 */
import { describeTarget } from '../../db/config.js';
import { getEnvironment } from '../../store/admin/index.js';
import type { BatchItem, HostEntry, Snapshot } from '../../store/hosts/index.js';
import { appendChanges, type EntryChanges } from '../hosts/index.js';
import { type HostStores, inTransaction, withHostsDb } from '../hosts/index.js';
import { parseHostsFile } from '../hosts/index.js';
import { ulid } from '../hosts/index.js';
import { changeEvents, envelope } from '../hosts/index.js';
import type { HostInput } from '../hosts/index.js';
import type { CoreOptions, Confirm } from '../options.js';
import { findSnapshot, takeSnapshot } from './snapshot.js';
import { plural } from '../../util/format.js';

export type DiffEntry = HostInput & { id?: string };

export interface ChangedEntry {
  ipAddress: string;
  hostname: string;
  fields: Array<'aliases' | 'comment' | 'tags'>;
  before: DiffEntry;
  after: DiffEntry;
}

export interface EntriesDiff {
  added: DiffEntry[];
  removed: DiffEntry[];
  changed: ChangedEntry[];
  unchanged: number;
}

export interface SnapshotRef {
  snapshotId: string;
  createdAt: Date;
  name: string | null;
  entryCount: number;
}

export interface SnapshotDiff extends EntriesDiff {
  from: SnapshotRef;
  /** The second snapshot, or null for the current entries. */
  to: SnapshotRef | null;
}

/** What changed from `before` to `after`, by (ip, hostname). */
export function diffEntries(before: DiffEntry[], after: DiffEntry[]): EntriesDiff {
  const key = (e: DiffEntry) => `${e.ipAddress} ${e.hostname}`;
  const old = new Map(before.map((e) => [key(e), e]));
  const diff: EntriesDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  for (const entry of after) {
    const was = old.get(key(entry));
    old.delete(key(entry));
    if (!was) {
      diff.added.push(entry);
      continue;
    }
    const fields: ChangedEntry['fields'] = [];
    if (!same(was.aliases, entry.aliases)) fields.push('aliases');
    if ((was.comment ?? null) !== (entry.comment ?? null)) fields.push('comment');
    if (!same(was.tags, entry.tags)) fields.push('tags');
    if (fields.length > 0)
      diff.changed.push({ ipAddress: entry.ipAddress, hostname: entry.hostname, fields, before: was, after: entry });
    else diff.unchanged += 1;
  }
  diff.removed = [...old.values()];
  return diff;
}

/** The entries a snapshot holds: as saved, or read back from its content. */
export function snapshotEntries(snapshot: Snapshot): DiffEntry[] {
  if (snapshot.entries) return snapshot.entries;
  return parseHostsFile(snapshot.hostsContent).records.map(({ line: _line, ...entry }) => entry);
}

/** Compares snapshot `id` with snapshot `against`, or with the current entries. */
export async function diffSnapshot(options: CoreOptions & { id: string; against?: string }): Promise<SnapshotDiff> {
  return withHostsDb(options, async ({ stores }) => {
    const from = await findSnapshot(stores, options.id);
    const to = options.against ? await findSnapshot(stores, options.against) : null;
    const after = to ? snapshotEntries(to) : await stores.hosts.listAll();
    return { from: refOf(from), to: to ? refOf(to) : null, ...diffEntries(snapshotEntries(from), after) };
  });
}

export interface RollbackResult {
  snapshotId: string;
  /** The snapshot of the entries as they were just before. */
  preRollbackSnapshotId: string;
  deleted: number;
  created: number;
  changed: number;
  unchanged: number;
}

/** Makes the entries equal to snapshot `id`'s (after `confirm`), atomically, as events. */
export async function rollbackSnapshot(
  options: CoreOptions & { id: string; confirm?: Confirm; now?: Date },
): Promise<RollbackResult> {
  const now = options.now ?? new Date();
  return withHostsDb(options, async ({ sql, conn, stores }) => {
    const snapshot = await findSnapshot(stores, options.id);
    const preview = diffEntries(await stores.hosts.listAll(), snapshotEntries(snapshot));
    await options.confirm?.({
      action: `roll the hosts back to snapshot ${snapshot.snapshotId}`,
      target: describeTarget(conn),
      environment: await getEnvironment(sql),
      details: [
        `snapshot ${snapshot.snapshotId}${snapshot.name ? ` (${snapshot.name})` : ''} of ${snapshot.createdAt.toISOString()}: ${plural(snapshot.entryCount, 'entry')}`,
        `${plural(preview.removed.length, 'entry')} removed, ${preview.added.length} added, ${preview.changed.length} changed; a pre-rollback snapshot is saved first`,
      ],
    });
    return inTransaction(sql, async (tx) => {
      await tx.hosts.deferLiveUniqueness();
      const pre = await takeSnapshot(tx, {
        trigger: 'pre-rollback',
        name: `before rollback to ${snapshot.snapshotId}`,
        now,
      });
      const plan = await planRollback(tx, pre.entries, snapshotEntries(snapshot), now, options);
      await tx.hostEvents.appendBatch(plan.deletes);
      await appendChanges(tx, plan.changes, now, options);
      await tx.hostEvents.appendBatch(plan.creates);
      return {
        snapshotId: snapshot.snapshotId,
        preRollbackSnapshotId: pre.snapshot.snapshotId,
        deleted: plan.deletes.length,
        created: plan.creates.length,
        changed: plan.changes.length,
        unchanged: plan.unchanged,
      };
    });
  });
}

interface RollbackPlan {
  deletes: BatchItem[];
  changes: EntryChanges[];
  creates: BatchItem[];
  unchanged: number;
}

/**
 * The events from `current` to `target`. Snapshot entries with ids are matched by id (so an
 * entry keeps its history, and a deleted one comes back under its own id); entries read from
 * a snapshot's text are matched by (ip, hostname).
 */
async function planRollback(
  stores: HostStores,
  current: HostEntry[],
  target: DiffEntry[],
  now: Date,
  options: CoreOptions,
): Promise<RollbackPlan> {
  const byId = target.every((t) => typeof t.id === 'string' && t.id !== '');
  const keyOf = (e: DiffEntry) => (byId ? e.id! : `${e.ipAddress} ${e.hostname}`);
  const live = new Map(current.map((e) => [keyOf(e), e]));
  const plan: RollbackPlan = { deletes: [], changes: [], creates: [], unchanged: 0 };
  const recreate: DiffEntry[] = [];
  for (const entry of target) {
    const now_ = live.get(keyOf(entry));
    live.delete(keyOf(entry));
    if (!now_) {
      recreate.push(entry);
      continue;
    }
    const events = changeEvents(now_, entry, now);
    if (events.length === 0) plan.unchanged += 1;
    else plan.changes.push({ id: now_.id, version: now_.version, events });
  }
  for (const gone of live.values()) {
    const event = {
      type: 'HostDeleted' as const,
      ipAddress: gone.ipAddress,
      hostname: gone.hostname,
      deletedAt: now,
      reason: 'rollback to a snapshot',
    };
    plan.deletes.push({ envelope: envelope(gone.id, event, now, options), expectedVersion: gone.version });
  }
  const versions = byId
    ? await stores.hostEvents.getCurrentVersions(recreate.map((e) => e.id!))
    : new Map<string, string>();
  for (const entry of recreate) {
    const id = byId ? entry.id! : ulid(now.getTime());
    const { ipAddress, hostname, aliases, comment, tags } = entry;
    const created = { type: 'HostCreated' as const, ipAddress, hostname, aliases, comment, tags, createdAt: now };
    plan.creates.push({ envelope: envelope(id, created, now, options), expectedVersion: versions.get(id) ?? null });
  }
  return plan;
}

function refOf(snapshot: Snapshot): SnapshotRef {
  return {
    snapshotId: snapshot.snapshotId,
    createdAt: snapshot.createdAt,
    name: snapshot.name ?? null,
    entryCount: snapshot.entryCount,
  };
}
