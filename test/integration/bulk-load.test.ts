import { describe, expect, it } from 'vitest';
import { loadHosts, type HostGroup } from '../../src/store/admin/bulk-load.js';
import { loadNewHosts } from '../../src/store/admin/new-hosts-load.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();

function group(id: string, eventId: string): HostGroup {
  const at = new Date('2026-01-01T00:00:00Z');
  const event = {
    type: 'HostCreated',
    ipAddress: '10.0.0.1',
    hostname: `${id}.lan`,
    aliases: [],
    comment: 'tab\there "quoted" back\\slash\nnew line',
    tags: [],
    createdAt: at.toISOString(),
  };
  return {
    events: [
      {
        eventId,
        aggregateId: id,
        type: 'HostCreated',
        eventVersion: `${id}-v1`,
        expectedVersion: null,
        event,
        createdAt: at,
      },
    ],
    live: {
      id,
      ipAddress: '10.0.0.1',
      hostname: `${id}.lan`,
      aliases: [],
      comment: event.comment,
      tags: [],
      createdAt: at,
      updatedAt: at,
      version: `${id}-v1`,
    },
  };
}

describe('bulk loading host events', () => {
  it('refuses a key repeated inside one load into empty tables, and puts the key back', async () => {
    const load = db.sql.begin((tx) => loadHosts(tx, [group('bulk-a', 'same-event'), group('bulk-b', 'same-event')], 2));
    await expect(load).rejects.toThrow(/hosts\.host_events repeat a unique key \(host_events_event_id_key\)/);
    const [key] = await db.sql`select count(*)::int as n from pg_constraint where conname = 'host_events_event_id_key'`;
    expect(key!.n).toBe(1);
  });

  it('writes text with COPY escapes and JSON with backslashes as they were', async () => {
    const g = group('bulk-c', 'bulk-c-e1');
    expect(await db.sql.begin((tx) => loadHosts(tx, [g], 1))).toBe(1);
    const [row] =
      await db.sql`select e.event, h.comment from hosts.host_events e join hosts.hosts h on h.id = e.aggregate_id where e.aggregate_id = 'bulk-c'`;
    expect(row!.event).toEqual(g.events[0]!.event);
    expect(row!.comment).toBe('tab\there "quoted" back\\slash\nnew line');
  });

  it('an import whose entries repeat (ip, hostname) is refused when the keys are built after the load, and leaves nothing', async () => {
    // The three tables' keys are built in one round trip after the load (new-hosts-load.ts):
    // the failure must name the projection's key and roll everything back.
    const before = await db.sql`select count(*)::int as n from hosts.host_events`;
    const host = { ipAddress: '10.9.9.9', hostname: 'twice.lan', aliases: [], comment: null, tags: [] };
    const slices = [Array.from({ length: 3000 }, (_, i) => ({ ...host, hostname: `n${i}.lan` })), [host, host]];
    let n = 0;
    const load = db.sql.begin(async (tx) => {
      await tx`delete from hosts.hosts`; // empty, as claimEmptyHosts finds it (rolled back with the rest)
      return loadNewHosts(tx, slices, 3002, { createdAt: new Date(), createdBy: null, newId: () => `dup-${n++}` });
    });
    await expect(load).rejects.toThrow(/hosts\.hosts repeat a unique key \(hosts_live_ip_hostname_key\)/);
    const [key] =
      await db.sql`select count(*)::int as n from pg_constraint where conname in ('hosts_live_ip_hostname_key', 'streams_pkey', 'host_events_pkey')`;
    expect(key!.n).toBe(3);
    expect(await db.sql`select count(*)::int as n from hosts.host_events`).toEqual(before);
    expect((await db.sql`select count(*)::int as n from hosts.hosts where id like 'dup-%'`)[0]!.n).toBe(0);
  });
});
