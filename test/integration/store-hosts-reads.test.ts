/**
 * Contract suite for db.hosts: current state (latest value per field, clearing a comment),
 * byte order, search, pagination, time travel, and awkward strings stored as given.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/errors.js';
import { createHostEventsStore } from '../../src/store/hosts/events.js';
import { createHostsStore } from '../../src/store/hosts/hosts.js';
import type { HostEvent } from '../../src/store/hosts/types.js';
import { useTestDatabase } from '../helpers/db.js';
import { commentUpdated, envelope, hostCreated, hostDeleted, uid } from './store-hosts-helpers.js';

const db = useTestDatabase();
const events = () => createHostEventsStore(db.sql);
const entries = () => createHostsStore(db.sql);

/** Creates an entry and applies `changes`; returns its id. */
async function make(
  ip: string,
  hostname: string,
  extra: Parameters<typeof hostCreated>[2] = {},
  changes: HostEvent[] = [],
): Promise<string> {
  const id = uid('h-');
  await events().appendEvents(
    id,
    [envelope(id, hostCreated(ip, hostname, extra)), ...changes.map((c) => envelope(id, c))],
    null,
  );
  return id;
}

describe('current state', () => {
  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
  });

  it('takes each field from its latest event, and a cleared comment stays cleared', async () => {
    const id = await make('192.0.2.1', 'state.example', { aliases: ['a1'], comment: 'first', tags: ['t1'] }, [
      commentUpdated('second', 'first'),
      { type: 'TagsModified', oldTags: ['t1'], newTags: ['t2', 't3'], modifiedAt: new Date() },
      { type: 'AliasesModified', oldAliases: ['a1'], newAliases: [], modifiedAt: new Date() },
      { type: 'HostnameChanged', oldHostname: 'state.example', newHostname: 'renamed.example', changedAt: new Date() },
      commentUpdated(null, 'second'),
    ]);
    const entry = await entries().getById(id);
    expect(entry).toMatchObject({
      ipAddress: '192.0.2.1',
      hostname: 'renamed.example',
      aliases: [],
      comment: null,
      tags: ['t2', 't3'],
    });
    expect(entry.version).toBe(await events().getCurrentVersion(id));
    expect(entry.createdAt).toBeInstanceOf(Date);
  });

  it('getById throws NotFoundError for an unknown id', async () => {
    await expect(entries().getById('no-such-host')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reads the projection table, not the event log', async () => {
    await db.sql`
      insert into hosts.hosts (id, ip_address, hostname, created_at, updated_at, version, last_seq)
      values ('projection-only', '203.0.113.250', 'projection.example', now(), now(), 'p1', 0)`;
    expect((await entries().getById('projection-only')).hostname).toBe('projection.example');
    expect((await entries().listAll()).some((e) => e.id === 'projection-only')).toBe(true);
    await db.sql`delete from hosts.hosts where id = 'projection-only'`;
  });
});

describe('order, search and pagination', () => {
  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    await make('192.168.10.1', 'ten.example', { tags: ['prod'] });
    await make('192.168.1.1', 'one.example', { tags: ['prod', 'web'] });
    await make('192.168.1.1', 'Alpha.example', { tags: ['dev'] });
    await make('192.168.1.1', 'alpha.example');
    await make('10.0.0.1', '100%_sure.example', { tags: ['odd'] });
    await make('10.0.0.2', '100x_sure.example');
    await make('10.0.0.3', '1000sure.example');
  });

  it('listAll orders by IP then hostname in byte order', async () => {
    const all = (await entries().listAll()).map((e) => `${e.ipAddress} ${e.hostname}`);
    expect(all).toEqual([
      '10.0.0.1 100%_sure.example',
      '10.0.0.2 100x_sure.example',
      '10.0.0.3 1000sure.example',
      '192.168.1.1 Alpha.example',
      '192.168.1.1 alpha.example',
      '192.168.1.1 one.example',
      '192.168.10.1 ten.example',
    ]);
  });

  it('treats % and _ in patterns as ordinary characters', async () => {
    expect((await entries().search({ hostnamePattern: '%_' })).map((e) => e.hostname)).toEqual(['100%_sure.example']);
    expect((await entries().search({ hostnamePattern: '_sure' })).map((e) => e.hostname)).toEqual([
      '100%_sure.example',
      '100x_sure.example',
    ]);
    expect(await entries().search({ hostnamePattern: '\\' })).toEqual([]);
  });

  it('matches substrings of the IP, ANDs the filters, and matches any of the tags exactly', async () => {
    expect((await entries().search({ ipPattern: '168.1.' })).map((e) => e.hostname)).toEqual([
      'Alpha.example',
      'alpha.example',
      'one.example',
    ]);
    expect((await entries().search({ ipPattern: '192.168', tags: ['prod'] })).map((e) => e.hostname)).toEqual([
      'one.example',
      'ten.example',
    ]);
    expect((await entries().search({ tags: ['web', 'odd'] })).map((e) => e.hostname)).toEqual([
      '100%_sure.example',
      'one.example',
    ]);
    expect(await entries().search({ tags: ['pro'] })).toEqual([]);
    expect(await entries().search({ ipPattern: '192.168', hostnamePattern: 'sure' })).toEqual([]);
  });

  it('returns everything for an empty filter, and pages', async () => {
    const all = await entries().search({});
    expect(all).toHaveLength(7);
    expect(await entries().search({ ipPattern: '', hostnamePattern: '', tags: [] })).toHaveLength(7);
    const page1 = await entries().search({}, { limit: 3 });
    const page2 = await entries().search({}, { limit: 3, offset: 3 });
    const page3 = await entries().search({}, { limit: 3, offset: 6 });
    expect([...page1, ...page2, ...page3].map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(await entries().search({}, { offset: 100 })).toEqual([]);
  });

  it('findByIpAndHostname and findByPairs find live entries only', async () => {
    expect((await entries().findByIpAndHostname('192.168.1.1', 'alpha.example'))?.hostname).toBe('alpha.example');
    expect(await entries().findByIpAndHostname('192.168.1.1', 'ALPHA.example')).toBeNull();
    const found = await entries().findByPairs([
      ['192.168.1.1', 'one.example'],
      ['192.168.10.1', 'ten.example'],
      ['1.2.3.4', 'missing.example'],
    ]);
    expect([...found.keys()].sort()).toEqual(['192.168.1.1 one.example', '192.168.10.1 ten.example']);
  });
});

describe('time travel', () => {
  it('folds the events up to a time, by their own createdAt', async () => {
    const id = uid('tt-');
    const t = (minute: number) => new Date(Date.UTC(2024, 0, 1, 12, minute));
    const created = envelope(id, hostCreated('198.51.100.1', 'travel.example', { comment: 'v1', at: t(0) }), {
      at: t(0),
    });
    const updated = envelope(id, commentUpdated('v2', 'v1'), { at: t(10) });
    const cleared = envelope(id, commentUpdated(null, 'v2'), { at: t(20) });
    const deleted = envelope(id, hostDeleted('198.51.100.1', 'travel.example'), { at: t(30) });
    await events().appendEvents(id, [created, updated, cleared, deleted], null);

    const at = async (minute: number) => (await entries().getAtTime(t(minute))).filter((e) => e.id === id);
    expect(await at(-1)).toEqual([]);
    expect((await at(5))[0]).toMatchObject({
      comment: 'v1',
      version: created.eventVersion,
      createdAt: t(0),
      updatedAt: t(0),
    });
    expect((await at(15))[0]).toMatchObject({ comment: 'v2', updatedAt: t(10) });
    expect((await at(25))[0]).toMatchObject({ comment: null });
    expect(await at(35)).toEqual([]);
    await expect(entries().getById(id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('orders time-travel results like listAll', async () => {
    const now = new Date(Date.now() + 60_000);
    const past = (await entries().getAtTime(now)).map((e) => e.id);
    expect(past).toEqual((await entries().listAll()).map((e) => e.id));
  });
});

describe('strings are stored as given', () => {
  const nasty = [
    'bücher.example',
    '例え.テスト',
    'xn--bcher-kva.example',
    'o\'reilly"s.example',
    '100%_off',
    "'; DROP TABLE hosts.hosts; --",
    'emoji-🦄.example',
  ];

  it.each(nasty)('hostname %s round-trips', async (hostname) => {
    const id = await make('203.0.113.7', hostname, { comment: hostname, tags: [hostname], aliases: [hostname] });
    const entry = await entries().getById(id);
    expect(entry).toMatchObject({ hostname, comment: hostname, tags: [hostname], aliases: [hostname] });
    expect((await entries().findByIpAndHostname('203.0.113.7', hostname))?.id).toBe(id);
    expect((await entries().search({ hostnamePattern: hostname })).map((e) => e.id)).toContain(id);
    expect((await events().loadEvents(id))[0]!.event).toMatchObject({ hostname });
  });

  it('keeps a 10,000-character comment and 50 tags exactly', async () => {
    const comment = `${'ä\'"%_\\'.repeat(1666)}end!`.slice(0, 10_000);
    expect(comment).toHaveLength(10_000);
    const tags = Array.from({ length: 50 }, (_, i) => `tag-${i}-${i % 2 ? "'" : '%'}`);
    const id = await make('203.0.113.8', 'long.example', { comment, tags });
    const entry = await entries().getById(id);
    expect(entry.comment).toBe(comment);
    expect(entry.tags).toEqual(tags);
    expect((await entries().search({ tags: ["tag-49-'"] })).map((e) => e.id)).toEqual([id]);
    const [{ n }] = await db.sql<{ n: number }[]>`select count(*)::int as n from hosts.hosts`;
    expect(n).toBeGreaterThan(0);
  });
});
