/**
 * Writing many entries' changes at once (imports, rollbacks): each entry's events chained on
 * its version, appended in rounds (every entry's 1st change, then every 2nd...) so each
 * statement has one event per entry and the database applies it set-based.
 */
import type { HostEvent } from '../../store/hosts/index.js';
import type { HostStores } from './db.js';
import { envelope } from './hosts.js';
import type { CoreOptions } from '../options.js';

/** The changes to one existing entry. */
export interface EntryChanges {
  id: string;
  /** Its current version (the first event's expected version). */
  version: string;
  events: HostEvent[];
}

/** Appends every entry's changes; `onProgress` gets the number of events written so far. */
export async function appendChanges(
  stores: HostStores,
  changes: EntryChanges[],
  at: Date,
  options: CoreOptions,
  onProgress?: (done: number) => void,
): Promise<number> {
  const versions = changes.map((c) => c.version);
  let done = 0;
  for (let round = 0; changes.some((c) => c.events.length > round); round++) {
    const items = [];
    for (const [i, change] of changes.entries()) {
      const event = change.events[round];
      if (!event) continue;
      const env = envelope(change.id, event, at, options);
      items.push({ envelope: env, expectedVersion: versions[i]! });
      versions[i] = env.eventVersion;
    }
    const before = done;
    await stores.hostEvents.appendBatch(items, { onProgress: (n) => onProgress?.(before + n) });
    done += items.length;
  }
  return done;
}
