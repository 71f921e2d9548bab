/**
 * Progress of `snapshot create` and `snapshot rollback` (the CLI draws it as a bar or writes
 * `--progress json` events): named phases, each counting entries or events. Reading the
 * entries goes a page at a time from one cursor (one statement: one view of the data), so
 * the count rises as they arrive.
 */
import type { HostEntry } from '../../store/hosts/index.js';
import type { HostStores } from '../hosts/index.js';

export interface SnapshotProgressEvent {
  /** 'reading', 'saving', 'saving pre-rollback snapshot', 'comparing', 'appending events', 'applying the events', 'committing'. */
  phase: string;
  done: number;
  total: number;
  /** Fixed for a phase. */
  unit: 'entries' | 'events';
}

export type SnapshotProgress = (event: SnapshotProgressEvent) => void;

/** Rows a page when the entries are read with progress. */
const PAGE_ROWS = 5000;

/**
 * Every live entry (as listAll: by IP, then hostname), with `phase` counting them as they
 * arrive when `onProgress` is given; the total is counted first (a separate statement, for
 * the display only: the entries themselves are one statement's).
 */
export async function readEntries(
  stores: HostStores,
  phase: string,
  onProgress: SnapshotProgress | undefined,
): Promise<HostEntry[]> {
  if (!onProgress) return stores.hosts.listAll();
  const counted = await stores.hosts.count();
  onProgress({ phase, done: 0, total: counted, unit: 'entries' });
  const entries: HostEntry[] = [];
  for await (const page of stores.hosts.searchPages({}, {}, PAGE_ROWS)) {
    for (const entry of page) entries.push(entry);
    onProgress({ phase, done: entries.length, total: Math.max(counted, entries.length), unit: 'entries' });
  }
  // The last event's total is what was read (entries may have come or gone since the count).
  if (entries.length !== counted) onProgress({ phase, done: entries.length, total: entries.length, unit: 'entries' });
  return entries;
}
