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
import { readEntries, type SnapshotProgress } from './progress.js';
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

/** The pre-rollback snapshot's phase: reading the entries, then saving them. */
const PRE_ROLLBACK = 'saving pre-rollback snapshot';

/**
 * Makes the entries equal to snapshot `id`'s (after `confirm`), atomically, as events.
 * `onProgress`: 'reading' (the current entries, for the question), then in the transaction
 * 'saving pre-rollback snapshot', 'comparing', 'appending events' (sent so far, of all),
 * 'applying the events' (the database's wait after the last one) and 'committing'.
 */
export async function rollbackSnapshot(
  options: CoreOptions & { id: string; confirm?: Confirm; now?: Date; onProgress?: SnapshotProgress },
): Promise<RollbackResult> {
  const now = options.now ?? new Date();
  const progress = options.onProgress;
  return withHostsDb(options, async ({ sql, conn, stores }) => {
    const snapshot = await findSnapshot(stores, options.id);
    const preview = diffEntries(await readEntries(stores, 'reading', progress), snapshotEntries(snapshot));
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
        onProgress: progress,
        phase: PRE_ROLLBACK,
        savingPhase: PRE_ROLLBACK,
      });
      const target = snapshotEntries(snapshot);
      progress?.({ phase: 'comparing', done: 0, total: target.length, unit: 'entries' });
      const plan = await planRollback(tx, pre.entries, target, now, options);
      progress?.({ phase: 'comparing', done: target.length, total: target.length, unit: 'entries' });
      await appendPlan(tx, plan, now, options, progress);
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

/** Appends the plan's events: tombstones, then changes (in rounds), then re-creations. */
async function appendPlan(
  tx: HostStores,
  plan: RollbackPlan,
  now: Date,
  options: CoreOptions,
  progress: SnapshotProgress | undefined,
): Promise<void> {
  // One statement per batch: the tombstones, each round of changes (every entry's 1st change,
  // then every 2nd...: appendChanges), the re-creations. Once a batch's last event is sent,
  // the database checks and applies it as a set (seconds for 100k): the phase names that wait.
  const ends = new Set<number>();
  let total = plan.deletes.length;
  ends.add(total);
  for (let round = 0; plan.changes.some((c) => c.events.length > round); round++)
    ends.add((total += plan.changes.filter((c) => c.events.length > round).length));
  ends.add((total += plan.creates.length));
  const sent = (done: number) =>
    progress?.({
      phase: done > 0 && ends.has(done) ? 'applying the events' : 'appending events',
      done,
      total,
      unit: 'events',
    });
  if (total > 0) sent(0);
  await tx.hostEvents.appendBatch(plan.deletes, { onProgress: sent });
  let done = plan.deletes.length;
  done += await appendChanges(tx, plan.changes, now, options, (n) => sent(plan.deletes.length + n));
  await tx.hostEvents.appendBatch(plan.creates, { onProgress: (n) => sent(done + n) });
  progress?.({ phase: 'committing', done: total, total, unit: 'events' });
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
