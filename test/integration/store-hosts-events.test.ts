/**
 * Contract suite for db.hostEvents: optimistic concurrency (also under real concurrency),
 * atomic batches, append order, unknown aggregates.
 */
import { describe, expect, it } from 'vitest';
import {
  ConcurrentWriteConflictError,
  DuplicateEntryError,
  DuplicateError,
  NotFoundError,
  ValidationError,
} from '../../src/errors.js';
import { createHostEventsStore } from '../../src/store/hosts/events.js';
import { createHostsStore } from '../../src/store/hosts/hosts.js';
import type { EventEnvelope } from '../../src/store/hosts/types.js';
import { useTestDatabase } from '../helpers/db.js';
import { commentUpdated, envelope, hostCreated, hostDeleted, uid } from './store-hosts-helpers.js';

const db = useTestDatabase();
const events = () => createHostEventsStore(db.sql);
const entries = () => createHostsStore(db.sql);

let ipCounter = 0;
/** A distinct IP address per call, so entries never collide by accident. */
function nextIp(): string {
  ipCounter += 1;
  return `10.1.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
}

async function create(
  aggregateId = uid('h-'),
  hostname = `${uid('n')}.example`,
): Promise<{ aggregateId: string; first: EventEnvelope }> {
  const first = envelope(aggregateId, hostCreated(nextIp(), hostname));
  await events().appendEvent(aggregateId, first, null);
  return { aggregateId, first };
}

describe('appendEvent and loadEvents', () => {
  it('stores an event and loads it back exactly', async () => {
    const aggregateId = uid('h-');
    const at = new Date('2025-03-01T10:00:00.123Z');
    const env = envelope(
      aggregateId,
      hostCreated('192.0.2.10', 'server.local', { aliases: ['srv'], comment: 'first', tags: ['a', 'b'], at }),
      { at, createdBy: 'alice' },
    );
    await events().appendEvent(aggregateId, env, null);
    const loaded = await events().loadEvents(aggregateId);
    expect(loaded).toEqual([env]);
    expect(loaded[0]!.createdAt).toBeInstanceOf(Date);
    expect((loaded[0]!.event as { createdAt: Date }).createdAt).toBeInstanceOf(Date);
    expect(await events().getCurrentVersion(aggregateId)).toBe(env.eventVersion);
    expect(await events().countEvents(aggregateId)).toBe(1);
  });

  it('returns [] / null / 0 for an unknown aggregate', async () => {
    const unknown = uid('nobody-');
    expect(await events().loadEvents(unknown)).toEqual([]);
    expect(await events().getCurrentVersion(unknown)).toBeNull();
    expect(await events().countEvents(unknown)).toBe(0);
  });

  it('orders by append, not by version: the latest is the last appended', async () => {
    const aggregateId = uid('h-');
    const versions = ['zzz', 'aaa', 'mmm', '000'];
    let expected: string | null = null;
    for (const [i, version] of versions.entries()) {
      const event = i === 0 ? hostCreated(nextIp(), `${uid('o')}.example`) : commentUpdated(`c${i}`);
      await events().appendEvent(aggregateId, envelope(aggregateId, event, { version }), expected);
      expected = version;
    }
    expect((await events().loadEvents(aggregateId)).map((e) => e.eventVersion)).toEqual(versions);
    expect(await events().getCurrentVersion(aggregateId)).toBe('000');
    expect(await events().countEvents(aggregateId)).toBe(4);
    expect((await entries().getById(aggregateId)).comment).toBe('c3');
  });
});

describe('optimistic concurrency', () => {
  it('refuses a wrong expected version, says expected and actual, writes nothing', async () => {
    const { aggregateId, first } = await create();
    const error = await events()
      .appendEvent(aggregateId, envelope(aggregateId, commentUpdated('no')), 'not-the-version')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentWriteConflictError);
    expect((error as ConcurrentWriteConflictError).expected).toBe('not-the-version');
    expect((error as ConcurrentWriteConflictError).actual).toBe(first.eventVersion);
    expect(await events().countEvents(aggregateId)).toBe(1);
    expect((await entries().getById(aggregateId)).comment).toBeNull();
  });

  it('refuses null (must not exist) for an existing aggregate', async () => {
    const { aggregateId, first } = await create();
    const error = await events()
      .appendEvent(aggregateId, envelope(aggregateId, commentUpdated('no')), null)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentWriteConflictError);
    expect((error as ConcurrentWriteConflictError).expected).toBeNull();
    expect((error as ConcurrentWriteConflictError).actual).toBe(first.eventVersion);
  });

  it('refuses a version for an aggregate that does not exist', async () => {
    const aggregateId = uid('h-');
    const error = await events()
      .appendEvent(aggregateId, envelope(aggregateId, hostCreated(nextIp(), 'x.example')), 'v1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentWriteConflictError);
    expect((error as ConcurrentWriteConflictError).actual).toBeNull();
    expect(await events().loadEvents(aggregateId)).toEqual([]);
  });

  it('lets exactly one of 16 concurrent appends with the same expected version win', async () => {
    const { aggregateId, first } = await create();
    const attempts = Array.from({ length: 16 }, (_, i) => envelope(aggregateId, commentUpdated(`writer ${i}`)));
    const results = await Promise.allSettled(
      attempts.map((env) => events().appendEvent(aggregateId, env, first.eventVersion)),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(15);
    for (const r of lost) expect(r.reason).toBeInstanceOf(ConcurrentWriteConflictError);
    const loaded = await events().loadEvents(aggregateId);
    expect(loaded).toHaveLength(2);
    const winner = attempts[results.findIndex((r) => r.status === 'fulfilled')]!;
    expect(loaded[1]!.eventId).toBe(winner.eventId);
    expect(await events().getCurrentVersion(aggregateId)).toBe(winner.eventVersion);
  });

  it('lets exactly one of 16 concurrent creations of the same new aggregate win', async () => {
    const aggregateId = uid('h-');
    const results = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) =>
        events().appendEvent(aggregateId, envelope(aggregateId, hostCreated(nextIp(), `race${i}.example`)), null),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConcurrentWriteConflictError);
    expect(await events().countEvents(aggregateId)).toBe(1);
    expect(await entries().getById(aggregateId)).toBeTruthy();
  });

  it('reports a reused event version as a conflict', async () => {
    const { aggregateId, first } = await create();
    const error = await events()
      .appendEvent(
        aggregateId,
        envelope(aggregateId, commentUpdated('again'), { version: first.eventVersion }),
        first.eventVersion,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentWriteConflictError);
  });

  it('refuses a reused event id', async () => {
    const { aggregateId, first } = await create();
    const again = { ...envelope(aggregateId, commentUpdated('x')), eventId: first.eventId };
    await expect(events().appendEvent(aggregateId, again, first.eventVersion)).rejects.toBeInstanceOf(DuplicateError);
  });
});

describe('appendEvents (batches)', () => {
  it('appends a batch chained on the expected version', async () => {
    const { aggregateId, first } = await create();
    const batch = [
      envelope(aggregateId, { type: 'IpAddressChanged', oldIp: '', newIp: '198.51.100.7', changedAt: new Date() }),
      envelope(aggregateId, commentUpdated('updated')),
      envelope(aggregateId, { type: 'TagsModified', oldTags: [], newTags: ['x', 'y'], modifiedAt: new Date() }),
    ];
    await events().appendEvents(aggregateId, batch, first.eventVersion);
    expect((await events().loadEvents(aggregateId)).map((e) => e.eventId)).toEqual([
      first.eventId,
      ...batch.map((e) => e.eventId),
    ]);
    const entry = await entries().getById(aggregateId);
    expect(entry).toMatchObject({
      ipAddress: '198.51.100.7',
      comment: 'updated',
      tags: ['x', 'y'],
      version: batch[2]!.eventVersion,
    });
  });

  it('creates and changes a new aggregate in one batch', async () => {
    const aggregateId = uid('h-');
    const batch = [
      envelope(aggregateId, hostCreated(nextIp(), 'batch.example')),
      envelope(aggregateId, commentUpdated('hello')),
    ];
    await events().appendEvents(aggregateId, batch, null);
    expect((await entries().getById(aggregateId)).comment).toBe('hello');
    expect(await events().countEvents(aggregateId)).toBe(2);
  });

  it('is all or nothing: a conflict in the batch writes none of it', async () => {
    const { aggregateId, first } = await create();
    const batch = [envelope(aggregateId, commentUpdated('one')), envelope(aggregateId, commentUpdated('two'))];
    await expect(events().appendEvents(aggregateId, batch, 'stale')).rejects.toBeInstanceOf(
      ConcurrentWriteConflictError,
    );
    expect(await events().countEvents(aggregateId)).toBe(1);
    expect(await events().getCurrentVersion(aggregateId)).toBe(first.eventVersion);
  });

  it('is all or nothing: a failing later event undoes the earlier ones', async () => {
    const { aggregateId, first } = await create();
    const other = await create();
    const otherEntry = await entries().getById(other.aggregateId);
    const batch = [
      envelope(aggregateId, commentUpdated('kept?')),
      // Moves onto the other live entry's (ip, hostname): a duplicate.
      envelope(aggregateId, {
        type: 'IpAddressChanged',
        oldIp: '',
        newIp: otherEntry.ipAddress,
        changedAt: new Date(),
      }),
      envelope(aggregateId, {
        type: 'HostnameChanged',
        oldHostname: '',
        newHostname: otherEntry.hostname,
        changedAt: new Date(),
      }),
    ];
    const error = await events()
      .appendEvents(aggregateId, batch, first.eventVersion)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateEntryError);
    expect(await events().countEvents(aggregateId)).toBe(1);
    expect((await entries().getById(aggregateId)).comment).toBeNull();
  });

  it('refuses an envelope of another aggregate', async () => {
    const { aggregateId, first } = await create();
    const stray = envelope(uid('other-'), commentUpdated('x'));
    await expect(events().appendEvents(aggregateId, [stray], first.eventVersion)).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('appendBatch appends many aggregates at once, all or nothing', async () => {
    const items = Array.from({ length: 50 }, () => {
      const id = uid('b-');
      return { envelope: envelope(id, hostCreated(nextIp(), `${id}.example`)), expectedVersion: null };
    });
    await events().appendBatch(items);
    for (const item of items) expect(await events().countEvents(item.envelope.aggregateId)).toBe(1);

    const clash = items[0]!.envelope.event as { ipAddress: string; hostname: string };
    const bad = [
      { envelope: envelope(uid('b-'), hostCreated(nextIp(), 'fine.example')), expectedVersion: null },
      { envelope: envelope(uid('b-'), hostCreated(clash.ipAddress, clash.hostname)), expectedVersion: null },
    ];
    const error = await db.sql.begin((tx) => createHostEventsStore(tx).appendBatch(bad)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateEntryError);
    expect(error).toMatchObject({ ipAddress: clash.ipAddress, hostname: clash.hostname });
    expect(await events().countEvents(bad[0]!.envelope.aggregateId)).toBe(0);
  });

  it('appendBatch of thousands (COPY) is all or nothing and reports the real error', async () => {
    const ip = '172.16.9.9';
    const items = Array.from({ length: 2500 }, (_, i) => {
      const id = uid('c-');
      return {
        envelope: envelope(
          id,
          hostCreated(ip, `bulk${i}.example`, { comment: i % 2 ? 'tab\there\nnew\\line' : null, tags: [`t${i % 3}`] }),
        ),
        expectedVersion: null,
      };
    });
    const progress: number[] = [];
    await db.sql.begin((tx) => createHostEventsStore(tx).appendBatch(items, { onProgress: (n) => progress.push(n) }));
    expect(progress.at(-1)).toBe(2500);
    const first = await entries().getById(items[1]!.envelope.aggregateId);
    expect(first).toMatchObject({ hostname: 'bulk1.example', comment: 'tab\there\nnew\\line', tags: ['t1'] });
    expect(await events().loadEvents(items[1]!.envelope.aggregateId)).toEqual([items[1]!.envelope]);

    // The same pairs again: the COPY fails in its trigger; the error is the real one and nothing stays.
    const again = Array.from({ length: 2500 }, (_, i) => {
      const id = uid('d-');
      return {
        envelope: envelope(id, hostCreated(ip, i === 2499 ? 'bulk7.example' : `other${i}.example`)),
        expectedVersion: null,
      };
    });
    const error = await db.sql.begin((tx) => createHostEventsStore(tx).appendBatch(again)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateEntryError);
    expect(error).toMatchObject({ ipAddress: ip, hostname: 'bulk7.example' });
    expect(await events().countEvents(again[0]!.envelope.aggregateId)).toBe(0);
    // The pool is still usable (no connection left in an aborted transaction).
    expect(await events().countEvents(items[0]!.envelope.aggregateId)).toBe(1);
  });
});

describe('tombstones and re-creation', () => {
  it('HostCreated of a live (ip, hostname) is a DuplicateEntryError; a deleted one does not block', async () => {
    const { aggregateId, first } = await create();
    const { ipAddress, hostname } = await entries().getById(aggregateId);
    const twin = uid('h-');
    const error = await events()
      .appendEvent(twin, envelope(twin, hostCreated(ipAddress, hostname)), null)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateEntryError);
    expect(error).toMatchObject({ ipAddress, hostname });
    expect(await events().countEvents(twin)).toBe(0);

    const deletion = envelope(aggregateId, hostDeleted(ipAddress, hostname, 'gone'));
    await events().appendEvent(aggregateId, deletion, first.eventVersion);
    await events().appendEvent(twin, envelope(twin, hostCreated(ipAddress, hostname)), null);
    expect((await entries().findByIpAndHostname(ipAddress, hostname))?.id).toBe(twin);
  });

  it('a deleted entry leaves the reads; its events stay and count; later events need a live entry', async () => {
    const { aggregateId, first } = await create();
    const entry = await entries().getById(aggregateId);
    const deletion = envelope(aggregateId, hostDeleted(entry.ipAddress, entry.hostname));
    await events().appendEvent(aggregateId, deletion, first.eventVersion);

    await expect(entries().getById(aggregateId)).rejects.toBeInstanceOf(NotFoundError);
    expect((await entries().listAll()).some((e) => e.id === aggregateId)).toBe(false);
    expect((await entries().search({ hostnamePattern: entry.hostname })).length).toBe(0);
    expect(await entries().findByIpAndHostname(entry.ipAddress, entry.hostname)).toBeNull();
    expect(await events().countEvents(aggregateId)).toBe(2);
    expect(await events().getCurrentVersion(aggregateId)).toBe(deletion.eventVersion);

    const late = await events()
      .appendEvent(aggregateId, envelope(aggregateId, commentUpdated('late')), deletion.eventVersion)
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(NotFoundError);
    const twice = await events()
      .appendEvent(
        aggregateId,
        envelope(aggregateId, hostDeleted(entry.ipAddress, entry.hostname)),
        deletion.eventVersion,
      )
      .catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(NotFoundError);

    // The same aggregate can be created again, after its tombstone.
    const again = envelope(aggregateId, hostCreated(entry.ipAddress, entry.hostname, { comment: 'back' }));
    await events().appendEvent(aggregateId, again, deletion.eventVersion);
    expect(await entries().getById(aggregateId)).toMatchObject({ comment: 'back', version: again.eventVersion });
    expect(await events().countEvents(aggregateId)).toBe(3);
  });

  it('a HostCreated for a live aggregate (right version) is refused', async () => {
    const { aggregateId, first } = await create();
    const error = await events()
      .appendEvent(aggregateId, envelope(aggregateId, hostCreated(nextIp(), 'again.example')), first.eventVersion)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentWriteConflictError);
  });
});
