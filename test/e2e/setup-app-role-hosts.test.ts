/**
 * The application role that `pgstore setup` creates writes the hosts schema only through the
 * event log: every direct write of the streams, the projection or past events is refused, and
 * every hosts operation (stores and core: appends, reads, snapshots, import, export) works as
 * that role. A setup run again on a database with the grants of earlier versions takes them back.
 * setup and migrate run through the CLI's entry in-process (test/helpers/cli-in-process.ts);
 * their binary contract is setup-reset's and migrate's.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type postgres from 'postgres';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addHost, hostHistory, listHosts, removeHost, updateHost } from '../../src/core/hosts/hosts.js';
import { exportHosts } from '../../src/core/hosts/export.js';
import { importHosts } from '../../src/core/hosts/import.js';
import {
  createSnapshot,
  deleteSnapshot,
  listSnapshots,
  pruneSnapshots,
  showSnapshot,
} from '../../src/core/snapshot/snapshot.js';
import { diffSnapshot, rollbackSnapshot } from '../../src/core/snapshot/diff.js';
import { createHostEventsStore } from '../../src/store/hosts/events.js';
import { createHostsStore } from '../../src/store/hosts/hosts.js';
import { createSnapshotsStore } from '../../src/store/hosts/snapshots.js';
import { cleanEnv } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { adminUrlFor } from '../helpers/db.js';
import { coreOptions } from '../helpers/core-options.js';
import { commentUpdated, envelope, hostCreated, uid } from '../integration/store-hosts-helpers.js';

const name = `s_${randomBytes(5).toString('hex')}`;
const url = adminUrlFor(name);
const APP_PASSWORD = `app-${randomBytes(9).toString('hex')}`;
const appUrl = Object.assign(new URL(url), { username: `${name}_app`, password: APP_PASSWORD }).toString();
const asApp = coreOptions(appUrl);
const dir = mkdtempSync(join(tmpdir(), 'pgstore-app-hosts-'));
let app: postgres.Sql;

const setup = () =>
  runCliInProcess(['setup', '--env', 'test'], {
    env: cleanEnv({ DATABASE_URL: url, PGSTORE_APP_PASSWORD: APP_PASSWORD }),
  });

beforeAll(async () => {
  const result = await setup();
  expect(result.code, result.stderr).toBe(0);
  app = rawSql(appUrl, { max: 1, onnotice: () => undefined });
});

afterAll(async () => {
  await app?.end();
  const sql = rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
  await sql.unsafe(`drop database if exists ${name} with (force)`);
  for (const role of [`${name}_owner`, `${name}_app`]) await sql.unsafe(`drop role if exists ${role}`);
  await sql.end();
  rmSync(dir, { recursive: true, force: true });
});

describe('the application role in the hosts schema', () => {
  it('imports into an empty store without the bulk path (it needs the owner), then as checked appends', async () => {
    const file = join(dir, 'many.hosts');
    writeFileSync(file, Array.from({ length: 1200 }, (_, i) => `10.7.${i >> 8}.${i & 255} bulk${i}.test`).join('\n'));
    const bulk = await importHosts({ ...asApp, source: file });
    expect(bulk).toMatchObject({ created: 1200, failed: 0, written: true });
    const small = join(dir, 'small.hosts');
    writeFileSync(small, '10.7.0.0 bulk0.test # replaced\n10.7.9.9 extra.test\n');
    expect(await importHosts({ ...asApp, source: small, mode: 'replace' })).toMatchObject({
      created: 1,
      updated: 1,
      failed: 0,
    });
    expect(await createHostsStore(app).count()).toBe(1201);
  });

  it('refuses every direct write of the streams, the projection and the log', async () => {
    const [row] = await app<{ id: string; version: string }[]>`select id, version from hosts.hosts limit 1`;
    const refused = [
      `insert into hosts.streams (aggregate_id, version, last_seq, event_count) values ('forged', 'v', 1, 1)`,
      `update hosts.streams set version = 'forged' where aggregate_id = '${row!.id}'`,
      `delete from hosts.streams where aggregate_id = '${row!.id}'`,
      `insert into hosts.hosts (id, ip_address, hostname, created_at, updated_at, version, last_seq) values ('forged', '10.0.0.9', 'forged.test', now(), now(), 'v', 1)`,
      `update hosts.hosts set comment = 'forged' where id = '${row!.id}'`,
      `delete from hosts.hosts where id = '${row!.id}'`,
      `update hosts.host_events set created_by = 'forged' where aggregate_id = '${row!.id}'`,
      `delete from hosts.host_events where aggregate_id = '${row!.id}'`,
      'truncate hosts.host_events, hosts.streams, hosts.hosts',
      `insert into hosts.host_events (seq, event_id, aggregate_id, event_type, event_version, event, created_at) values (1, 'forged-e', 'forged', 'HostCreated', 'v', '{"ipAddress":"10.0.0.9","hostname":"f.test"}', now())`,
      'update hosts.snapshots set hosts_content = $$forged$$',
      'select hosts.rebuild_projection()',
      `select hosts.apply_event('${row!.id}', 'HostDeleted', '{}', 'v', now(), 1)`,
      "select setval('hosts.host_events_seq_seq', 1)",
      'alter table hosts.host_events disable trigger user',
      'create table hosts.extra (x int)',
    ];
    for (const statement of refused)
      await expect(app.unsafe(statement), statement).rejects.toMatchObject({ code: '42501' });
    // The trigger function runs as the owner: no one else may attach it to a table of theirs.
    await app.unsafe('create temporary table fake (like hosts.host_events)');
    await expect(
      app.unsafe(
        'create trigger fake_apply after insert on fake referencing new table as new_events for each statement execute function hosts.host_events_apply()',
      ),
    ).rejects.toMatchObject({ code: '42501' });
    const [after] = await app<
      { version: string; n: number }[]
    >`select version, (select count(*)::int from hosts.streams) as n from hosts.streams where aggregate_id = ${row!.id}`;
    expect(after).toEqual({ version: row!.version, n: 1201 });
  });

  it('runs every event store and read method', async () => {
    const events = createHostEventsStore(app);
    const reads = createHostsStore(app);
    const id = uid('h-');
    const first = envelope(id, hostCreated('10.8.0.1', 'store.test', { tags: ['t'] }));
    await events.appendEvent(id, first, null);
    const changes = [
      envelope(id, commentUpdated('one')),
      envelope(id, { type: 'TagsModified', oldTags: ['t'], newTags: ['u'], modifiedAt: new Date() }),
    ];
    await events.appendEvents(id, changes, first.eventVersion);
    await events.appendBatch([
      { envelope: envelope(uid('h-'), hostCreated('10.8.0.2', 'batch.test')), expectedVersion: null },
    ]);
    const many = Array.from({ length: 1000 }, (_, i) => ({
      envelope: envelope(uid('c-'), hostCreated(`10.9.${i >> 8}.${i & 255}`, 'copy.test')),
      expectedVersion: null,
    }));
    await events.appendBatch(many); // COPY
    expect((await events.loadEvents(id)).map((e) => e.eventId)).toEqual([
      first.eventId,
      ...changes.map((c) => c.eventId),
    ]);
    expect(await events.getCurrentVersion(id)).toBe(changes[1]!.eventVersion);
    expect((await events.getCurrentVersions([id])).get(id)).toBe(changes[1]!.eventVersion);
    expect(await events.countEvents(id)).toBe(3);
    expect(await events.lastPosition()).toBeGreaterThan(2000);
    expect(await reads.getById(id)).toMatchObject({ comment: 'one', tags: ['u'] });
    expect(await reads.findByIpAndHostname('10.8.0.1', 'store.test')).toMatchObject({ id });
    expect((await reads.findByPairs([['10.8.0.1', 'store.test']])).size).toBe(1);
    expect((await reads.search({ hostnamePattern: 'store.te', tags: ['u'] })).map((e) => e.id)).toEqual([id]);
    expect((await reads.getAtTime(new Date())).length).toBe(await reads.count());
    expect((await reads.listAll()).length).toBe(2203);
    await app.begin((tx) => createHostsStore(tx).deferLiveUniqueness());
    await expect(
      events.appendEvent(id, envelope(id, commentUpdated('stale')), first.eventVersion),
    ).rejects.toMatchObject({ exitCode: 3 });
  });

  it('runs the hosts and snapshot operations: add, update, remove, history, list, snapshots, diff, rollback, export', async () => {
    const added = await addHost({ ...asApp, ip: '10.6.0.1', hostname: 'core.test', tags: ['a'] });
    const { snapshot } = await createSnapshot({ ...asApp, name: 'before' });
    await updateHost({ ...asApp, id: added.id, comment: 'changed', expectedVersion: added.version });
    await removeHost({ ...asApp, id: (await createHostsStore(app).findByIpAndHostname('10.6.0.1', 'core.test'))!.id });
    expect((await hostHistory({ ...asApp, id: added.id })).map((e) => e.event.type)).toEqual([
      'HostCreated',
      'CommentUpdated',
      'HostDeleted',
    ]);
    expect((await listSnapshots(asApp)).map((s) => s.snapshotId)).toContain(snapshot.snapshotId);
    expect((await showSnapshot({ ...asApp, id: snapshot.snapshotId })).entryCount).toBe(snapshot.entryCount);
    expect((await diffSnapshot({ ...asApp, id: snapshot.snapshotId })).removed.map((e) => e.hostname)).toEqual([
      'core.test',
    ]);
    const rolled = await rollbackSnapshot({ ...asApp, id: snapshot.snapshotId });
    expect(rolled).toMatchObject({ created: 1, deleted: 0 });
    expect(await listHosts({ ...asApp, search: 'core.test' })).toMatchObject([
      { id: added.id, comment: null, tags: ['a'] },
    ]);
    await deleteSnapshot({ ...asApp, id: rolled.preRollbackSnapshotId });
    await createSnapshotsStore(app).saveSnapshot({
      snapshotId: uid('s-'),
      createdAt: new Date('2000-01-01'),
      hostsContent: '',
      entryCount: 0,
      trigger: 'test',
    });
    expect((await pruneSnapshots({ ...asApp, keepLast: 10, keepDays: 365 })).deleted).toBe(1);
    const exported = await exportHosts({ ...asApp, format: 'jsonl' });
    expect(exported.entries).toBe(await createHostsStore(app).count());
  });

  it('a setup run again takes back the grants of earlier versions, and a database migrated before gets the fixed trigger', async () => {
    const sql = rawSql(url, { max: 1, onnotice: () => undefined });
    try {
      // The state an earlier pgstore left: the hosts migration without 20261205000001, DML on every table.
      const down = await runCliInProcess(['migrate', 'down', '--to', '20260101000003', '--yes'], {
        env: cleanEnv({ DATABASE_URL: url }),
      });
      expect(down.code, down.stderr).toBe(0);
      const [fn] = await sql<
        { definer: boolean }[]
      >`select prosecdef as definer from pg_proc where oid = 'hosts.host_events_apply()'::regprocedure`;
      expect(fn!.definer).toBe(false);
      const owner = `${name}_owner`;
      const role = `${name}_app`;
      await sql.unsafe(`grant select, insert, update, delete on all tables in schema hosts to ${role};
        grant usage, select on all sequences in schema hosts to ${role};
        grant execute on all functions in schema hosts to ${role};
        alter default privileges for role ${owner} in schema hosts grant select, insert, update, delete on tables to ${role};
        alter default privileges for role ${owner} in schema hosts grant usage, select on sequences to ${role};
        alter default privileges for role ${owner} in schema hosts grant execute on functions to ${role};
        grant trigger, references on hosts.hosts, hosts.streams to ${role};
        grant trigger on hosts.hosts to public`);
      expect(await can(sql, role, 'hosts.streams', 'insert')).toBe(true);

      // A migration alone already takes back the direct writes (no setup run needed).
      const up = await runCliInProcess(['migrate', 'up'], { env: cleanEnv({ DATABASE_URL: url }) });
      expect(up.code, up.stderr).toBe(0);
      for (const table of ['hosts.streams', 'hosts.hosts']) {
        for (const privilege of ['insert', 'update', 'delete', 'truncate'])
          expect(await can(sql, role, table, privilege), `${privilege} on ${table} after migrate`).toBe(false);
      }
      for (const privilege of ['update', 'delete'])
        expect(await can(sql, role, 'hosts.host_events', privilege), `${privilege} on the log after migrate`).toBe(
          false,
        );
      // A trigger on these tables would run its code as their owner: TRIGGER goes too, PUBLIC's included.
      for (const table of ['hosts.streams', 'hosts.hosts'])
        expect(await can(sql, role, table, 'trigger'), `trigger on ${table} after migrate`).toBe(false);
      // The case-folding function of the unique keys does not take the writer's search_path.
      const [folding] = await sql<
        { config: string[] | null }[]
      >`select proconfig as config from pg_proc where oid = 'pgstore.casefold(text)'::regprocedure`;
      expect(folding!.config).toEqual(['search_path=pg_catalog, pg_temp']);
      const [rebuild] = await sql<
        { ok: boolean }[]
      >`select has_function_privilege(${role}, 'hosts.rebuild_projection()', 'execute') as ok`;
      expect(rebuild!.ok).toBe(false);

      const again = await setup();
      expect(again.code, again.stderr).toBe(0);
      for (const table of ['hosts.streams', 'hosts.hosts']) {
        for (const privilege of ['insert', 'update', 'delete', 'truncate'])
          expect(await can(sql, role, table, privilege), `${privilege} on ${table}`).toBe(false);
        expect(await can(sql, role, table, 'select')).toBe(true);
      }
      for (const privilege of ['update', 'delete'])
        expect(await can(sql, role, 'hosts.host_events', privilege)).toBe(false);
      const [state] = await sql<
        { definer: boolean; owner: string; apply: boolean; rebuild: boolean; defaults: string[] }[]
      >`
        select p.prosecdef as definer, pg_get_userbyid(p.proowner) as owner,
               has_function_privilege(${role}, 'hosts.host_events_apply()', 'execute') as apply,
               has_function_privilege(${role}, 'hosts.rebuild_projection()', 'execute') as rebuild,
               array(select d.defaclobjtype::text || '=' || array_to_string(d.defaclacl, ',') from pg_default_acl d
                      where d.defaclnamespace = 'hosts'::regnamespace order by 1) as defaults
        from pg_proc p where p.oid = 'hosts.host_events_apply()'::regprocedure`;
      expect(state).toMatchObject({ definer: true, owner, apply: false, rebuild: false });
      // Future tables in hosts: readable only; no default grants of sequences or functions.
      expect(state!.defaults).toEqual([`r=${role}=r/${owner}`]);
      // And the role still appends.
      const id = uid('h-');
      await createHostEventsStore(app).appendEvent(id, envelope(id, hostCreated('10.5.0.1', 'after.test')), null);
    } finally {
      await sql.end();
    }
  });
});

async function can(sql: postgres.Sql, role: string, table: string, privilege: string): Promise<boolean> {
  const [row] = await sql<{ ok: boolean }[]>`select has_table_privilege(${role}, ${table}, ${privilege}) as ok`;
  return row!.ok;
}
