/**
 * Contract suite for db.snapshots: save/get/delete, newest-first listing with pagination,
 * retention by count, by age (the snapshot's own createdAt), both, and disabled.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { DuplicateError, NotFoundError, ValidationError } from '../../src/errors.js';
import type { Snapshot } from '../../src/store/hosts/types.js';
import { createStores } from '../../src/store/index.js';
import { createSnapshotsStore } from '../../src/store/hosts/snapshots.js';
import { useTestDatabase } from '../helpers/db.js';
import { envelope, hostCreated, uid } from './store-hosts-helpers.js';

const db = useTestDatabase();
const store = () => createSnapshotsStore(db.sql);
const DAY = 24 * 60 * 60 * 1000;

function snapshot(extra: Partial<Snapshot> = {}): Snapshot {
  return {
    snapshotId: uid('s-'),
    createdAt: new Date(),
    hostsContent: '192.168.1.1\tserver.local\n',
    entryCount: 1,
    trigger: 'manual',
    name: null,
    eventLogPosition: null,
    ...extra,
  };
}

/** Saves snapshots created `ages` days ago (fractions allowed), returns their ids in that order. */
async function saveAged(ages: number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const age of ages) {
    const s = snapshot({ createdAt: new Date(Date.now() - age * DAY) });
    await store().saveSnapshot(s);
    ids.push(s.snapshotId);
  }
  return ids;
}

beforeEach(async () => {
  await db.sql`delete from hosts.snapshots`;
});

describe('save, get, delete', () => {
  it('round-trips every field, entries included', async () => {
    const createdAt = new Date('2025-06-01T08:30:00.250Z');
    const entries = [
      {
        id: 'h1',
        ipAddress: '192.168.1.1',
        hostname: 'server.local',
        aliases: ['srv'],
        comment: "it's here",
        tags: ['a', 'b'],
        createdAt,
        updatedAt: createdAt,
        version: 'v1',
      },
    ];
    const s = snapshot({
      createdAt,
      name: "Test 'snapshot' %_",
      eventLogPosition: 42,
      entries,
      hostsContent: "# x\n192.168.1.1\tserver.local srv\t# it's here [a, b]\n",
    });
    await store().saveSnapshot(s);
    expect(await store().getSnapshot(s.snapshotId)).toEqual(s);
  });

  it('keeps entries null when saved without them', async () => {
    const s = snapshot();
    await store().saveSnapshot(s);
    expect((await store().getSnapshot(s.snapshotId)).entries).toBeNull();
  });

  it('throws NotFoundError for an unknown id, on get and on delete', async () => {
    await expect(store().getSnapshot('nonexistent-id')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store().deleteSnapshot('nonexistent-delete')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('deletes', async () => {
    const s = snapshot();
    await store().saveSnapshot(s);
    await store().deleteSnapshot(s.snapshotId);
    await expect(store().getSnapshot(s.snapshotId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a taken id and bad values', async () => {
    const s = snapshot();
    await store().saveSnapshot(s);
    await expect(store().saveSnapshot({ ...s })).rejects.toBeInstanceOf(DuplicateError);
    await expect(store().saveSnapshot(snapshot({ entryCount: -1 }))).rejects.toBeInstanceOf(ValidationError);
    await expect(store().saveSnapshot(snapshot({ trigger: '' }))).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('listSnapshots', () => {
  it('lists newest first by the snapshot createdAt, metadata only', async () => {
    // Saved out of order: the order must come from createdAt, not from insertion.
    const [middle, oldest, newest] = await saveAged([5, 10, 1]);
    const listed = await store().listSnapshots();
    expect(listed.map((s) => s.snapshotId)).toEqual([newest, middle, oldest]);
    expect(listed[0]).not.toHaveProperty('hostsContent');
    expect(listed[0]).not.toHaveProperty('entries');
    expect(Object.keys(listed[0]!).sort()).toEqual([
      'createdAt',
      'entryCount',
      'eventLogPosition',
      'name',
      'snapshotId',
      'trigger',
    ]);
  });

  it('returns all without a limit, and pages with limit and offset', async () => {
    const ids = await saveAged([1, 2, 3, 4, 5, 6, 7]); // newest first already
    expect(await store().listSnapshots()).toHaveLength(7);
    const page1 = await store().listSnapshots({ limit: 3 });
    const page2 = await store().listSnapshots({ limit: 3, offset: 3 });
    const page3 = await store().listSnapshots({ limit: 3, offset: 6 });
    expect([...page1, ...page2, ...page3].map((s) => s.snapshotId)).toEqual(ids);
    expect(page3).toHaveLength(1);
    expect(await store().listSnapshots({ limit: 10, offset: 10_000 })).toEqual([]);
    expect(await store().listSnapshots({ offset: 5 })).toHaveLength(2);
  });
});

describe('applyRetentionPolicy', () => {
  it('by count: keeps the newest N', async () => {
    const ids = await saveAged([0.5, 0.4, 0.3, 0.2, 0.1]);
    expect(await store().applyRetentionPolicy({ maxCount: 3 })).toBe(2);
    expect((await store().listSnapshots()).map((s) => s.snapshotId)).toEqual(ids.slice(2).reverse());
  });

  it('by age: deletes those older than maxAgeDays by their own createdAt', async () => {
    const [old, recent, edge] = await saveAged([100, 0, 29.9]);
    expect(await store().applyRetentionPolicy({ maxAgeDays: 30 })).toBe(1);
    await expect(store().getSnapshot(old!)).rejects.toBeInstanceOf(NotFoundError);
    expect((await store().listSnapshots()).map((s) => s.snapshotId)).toEqual([recent, edge]);
  });

  it('measures age from `now` when given', async () => {
    await saveAged([10, 1]);
    expect(await store().applyRetentionPolicy({ maxAgeDays: 5, now: new Date(Date.now() - 7 * DAY) })).toBe(0);
    expect(await store().applyRetentionPolicy({ maxAgeDays: 5 })).toBe(1);
  });

  it('both: deletes each snapshot that breaks either limit', async () => {
    const ids = await saveAged([40, 35, 3, 2, 1]);
    // count alone would delete the two oldest; age alone the two older than 30 days; plus count 2 → keep newest 2.
    expect(await store().applyRetentionPolicy({ maxCount: 2, maxAgeDays: 30 })).toBe(3);
    expect((await store().listSnapshots()).map((s) => s.snapshotId)).toEqual([ids[4], ids[3]]);
  });

  it('disabled: deletes nothing and returns 0', async () => {
    await saveAged([400, 1]);
    expect(await store().applyRetentionPolicy({})).toBe(0);
    expect(await store().applyRetentionPolicy({ maxCount: null, maxAgeDays: null })).toBe(0);
    expect(await store().applyRetentionPolicy()).toBe(0);
    expect(await store().listSnapshots()).toHaveLength(2);
  });

  it('refuses negative limits', async () => {
    await expect(store().applyRetentionPolicy({ maxCount: -1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(store().applyRetentionPolicy({ maxAgeDays: -2 })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('createStores', () => {
  it('has hostEvents, hosts and snapshots, which share a transaction', async () => {
    const id = uid('tx-');
    const s = snapshot();
    const failed = await db.sql
      .begin(async (tx) => {
        const stores = createStores(tx);
        await stores.hostEvents.appendEvent(id, envelope(id, hostCreated('198.18.0.1', 'tx.example')), null);
        await stores.snapshots.saveSnapshot(s);
        expect((await stores.hosts.getById(id)).hostname).toBe('tx.example');
        throw new Error('roll back');
      })
      .catch((e: Error) => e.message);
    expect(failed).toBe('roll back');
    const stores = createStores(db.sql);
    expect(await stores.hostEvents.countEvents(id)).toBe(0);
    await expect(stores.snapshots.getSnapshot(s.snapshotId)).rejects.toBeInstanceOf(NotFoundError);
  });
});
