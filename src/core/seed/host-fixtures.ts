/**
 * The host entries and the snapshot of a fixture set, appended as events through the stores
 * (so they have a history like any other entry); entries already there are skipped.
 */
import type { HostEvent } from '../../store/hosts/index.js';
import type { HostStores } from '../hosts/index.js';
import { ulid } from '../hosts/index.js';
import type { FixtureSet } from './fixture-sets.js';
import { takeSnapshot } from '../snapshot/index.js';

interface Log {
  created: string[];
  skipped: string[];
}

/** Adds the set's host entries that are missing, then its snapshot if it has none yet. */
export async function seedHostFixtures(stores: HostStores, set: FixtureSet, log: Log, now = new Date()): Promise<void> {
  let added = 0;
  for (const host of set.hosts) {
    const existing = await stores.hosts.findByIpAndHostname(host.ip, host.hostname);
    const what = `host ${host.ip} ${host.hostname}`;
    if (existing) {
      log.skipped.push(what);
      continue;
    }
    const at = new Date(now.getTime() + added++);
    const id = ulid(at.getTime());
    const event: HostEvent = {
      type: 'HostCreated',
      ipAddress: host.ip,
      hostname: host.hostname,
      aliases: host.aliases ?? [],
      comment: host.comment ?? null,
      tags: host.tags,
      createdAt: at,
    };
    await stores.hostEvents.appendEvent(
      id,
      {
        eventId: ulid(at.getTime()),
        aggregateId: id,
        eventVersion: ulid(at.getTime()),
        createdAt: at,
        createdBy: 'pgstore seed',
        event,
      },
      null,
    );
    log.created.push(what);
  }
  if (!set.snapshot) return;
  const snapshots = await stores.snapshots.listSnapshots();
  if (snapshots.some((s) => s.name === set.snapshot)) {
    log.skipped.push(`snapshot '${set.snapshot}'`);
    return;
  }
  await takeSnapshot(stores, { trigger: 'seed', name: set.snapshot, now: new Date(now.getTime() + added) });
  log.created.push(`snapshot '${set.snapshot}'`);
}
