/**
 * hosts import and export in-process (core/hosts): modes skip/replace/strict, dry runs, the
 * jsonl and csv formats, atomic export, export → import into an empty database in every
 * format, and the bulk load into an empty store (and when it steps aside).
 * The CLI's contract for these commands (exit codes, messages) is test/e2e/hosts-import-export.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  addHost,
  exportHosts,
  type ImportHostsOptions,
  importHosts,
  listHosts,
  removeHost,
} from '../../src/core/hosts/index.js';
import { createTestDatabase, useTestDatabase } from '../helpers/db.js';
import { on } from '../helpers/core.js';

const FIXTURE = new URL('../fixtures/hosts/urlhaus.hosts', import.meta.url).pathname;
const db = useTestDatabase();
const dir = mkdtempSync(join(tmpdir(), 'pgstore-hosts-core-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Store = Awaited<ReturnType<typeof createTestDatabase>>;
const spares: Store[] = [];
afterAll(async () => {
  for (const spare of spares) await spare.drop();
});
/**
 * `n` other databases with an empty hosts store: copies of the template made once for the file
 * (each copy costs the server a copy of every file), emptied for each user. An empty store is
 * what the bulk path looks for: no events, no streams, no entries.
 */
async function emptyStores<N extends 1 | 2>(n: N): Promise<N extends 1 ? [Store] : [Store, Store]> {
  while (spares.length < n) spares.push(await createTestDatabase());
  const stores = spares.slice(0, n);
  for (const store of stores) await store.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
  return stores as N extends 1 ? [Store] : [Store, Store];
}

const entries = async (url = db.url) =>
  (await listHosts(on(url))).map(({ ipAddress, hostname, aliases, comment, tags }) => ({
    ipAddress,
    hostname,
    aliases,
    comment,
    tags,
  }));
const importFile = (source: string, options: Partial<ImportHostsOptions> & { url?: string } = {}) =>
  importHosts({ ...on(options.url ?? db.url), source, ...options });
const add = (ip: string, hostname: string, more: { aliases?: string[]; comment?: string; tags?: string[] } = {}) =>
  addHost({ ...on(db.url), ip, hostname, ...more });

describe('import of the real hosts file', () => {
  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
  });

  it('imports all 1,567 entries', async () => {
    expect(await importFile(FIXTURE)).toMatchObject({
      processed: 1567,
      created: 1567,
      updated: 0,
      skipped: 0,
      failed: 0,
      written: true,
    });
    const all = await entries();
    expect(all).toHaveLength(1567);
    expect(all.every((e) => e.ipAddress === '127.0.0.1' && e.aliases.length === 0 && e.comment === null)).toBe(true);
    expect(all[0]!.hostname).toBe('01.shgrasp.vip');
  });

  it('skips them all the second time, and strict refuses without writing', async () => {
    expect(await importFile(FIXTURE)).toMatchObject({ processed: 1567, created: 0, skipped: 1567, failed: 0 });
    const strict = await importFile(FIXTURE, { mode: 'strict' });
    expect(strict).toMatchObject({ failed: 1567, written: false });
    expect(strict.errors[0]).toMatchObject({ line: 9, field: 'hostname', kind: 'duplicate' });
    expect(await entries()).toHaveLength(1567);
  });
});

describe('import errors, modes and dry runs', () => {
  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
  });

  const bad = [
    '# a comment',
    '',
    '10.0.0.1\tgood.lan',
    '10.0.0.300\tbad-ip.lan',
    '10.0.0.2\tbad_name.lan',
    '10.0.0.3',
    '10.0.0.4\tok.lan -alias-',
    '10.0.0.5\tfine.lan fine\t# kept [t1, t2]',
  ].join('\n');

  it('reports every bad line with its number and field and imports the good ones (skip mode)', async () => {
    const file = join(dir, 'bad.hosts');
    writeFileSync(file, bad);
    const r = await importFile(file);
    expect(r).toMatchObject({ processed: 6, created: 2, updated: 0, skipped: 0, failed: 4, written: true });
    expect(r.errors.map((e) => [e.line, e.field, e.kind])).toEqual([
      [4, 'ip', 'invalid'],
      [5, 'hostname', 'invalid'],
      [6, 'hostname', 'invalid'],
      [7, 'alias', 'invalid'],
    ]);
    const all = await entries();
    expect(all.map((e) => e.hostname)).toEqual(['good.lan', 'fine.lan']);
    expect(all[1]).toMatchObject({ aliases: ['fine'], comment: 'kept', tags: ['t1', 't2'] });
  });

  it('strict mode with a bad line writes nothing', async () => {
    const file = join(dir, 'strict.hosts');
    writeFileSync(file, '10.1.1.1 new.lan\n10.1.1.2 bad..lan\n');
    const r = await importFile(file, { mode: 'strict' });
    expect(r).toMatchObject({ processed: 2, failed: 1, written: false });
    expect(r.errors).toEqual([
      { line: 2, field: 'hostname', message: "hostname 'bad..lan' has an empty label", kind: 'invalid' },
    ]);
    expect((await entries()).some((e) => e.hostname === 'new.lan')).toBe(false);
  });

  it('replace mode updates existing entries; skip leaves them; dry runs write nothing', async () => {
    const file = join(dir, 'replace.hosts');
    writeFileSync(file, '10.0.0.5 fine.lan other\t# changed [t3]\n10.0.0.6 added.lan\n10.0.0.1 good.lan\n');
    expect(await importFile(file, { mode: 'replace', dryRun: true })).toMatchObject({
      processed: 3,
      created: 1,
      updated: 1,
      skipped: 1,
      written: false,
      dryRun: true,
    });
    expect((await entries()).some((e) => e.hostname === 'added.lan')).toBe(false);

    expect(await importFile(file)).toMatchObject({ created: 1, updated: 0, skipped: 2 });
    expect((await entries()).find((e) => e.hostname === 'fine.lan')).toMatchObject({ comment: 'kept' });

    expect(await importFile(file, { mode: 'replace' })).toMatchObject({ created: 0, updated: 1, skipped: 2 });
    expect((await entries()).find((e) => e.hostname === 'fine.lan')).toMatchObject({
      aliases: ['other'],
      comment: 'changed',
      tags: ['t3'],
    });
  });

  it('reads the jsonl and csv formats (from standard input, too)', async () => {
    const jsonl = '{"ipAddress":"10.2.0.1","hostname":"json.lan","tags":["j"]}\n{"ipAddress":"10.2.0.2"}\nnot json\n';
    const r = await importFile('-', { format: 'jsonl', readStdin: async () => jsonl });
    expect(r).toMatchObject({ created: 1, failed: 2 });
    expect(r.errors.map((e) => [e.line, e.field])).toEqual([
      [2, 'hostname'],
      [3, 'json'],
    ]);
    const file = join(dir, 'in.csv');
    writeFileSync(
      file,
      'ip_address,hostname,aliases,comment,tags\n10.3.0.1,csv.lan,"c1 c2","a, ""quoted"" comment",x y\n',
    );
    expect(await importFile(file)).toMatchObject({ format: 'csv', created: 1, failed: 0 });
    expect((await entries()).find((e) => e.hostname === 'csv.lan')).toEqual({
      ipAddress: '10.3.0.1',
      hostname: 'csv.lan',
      aliases: ['c1', 'c2'],
      comment: 'a, "quoted" comment',
      tags: ['x', 'y'],
    });
  });
});

describe('export, and export → import into an empty database', () => {
  let empty: Store;

  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    await add('192.168.10.1', 'ten.lan');
    await add('192.168.1.1', 'one.lan', { aliases: ['uno.lan', 'eins.lan'], tags: ['a', 'b'] });
    await add('::1', 'v6.lan', { comment: 'ends with a bracket [really]' });
    await add('192.168.1.1', 'comment.lan', { comment: 'it\'s "quoted", # and, [odd]; ok' });
    await add('10.0.0.1', 'tags-only.lan', { tags: ['x'] });
    // Through the library (no validation): a comment with line breaks must not break the file.
    await db.sql`
      insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, expected_version, event, created_at)
      values ('lib-e1', 'lib-h1', 'HostCreated', 'lib-v1', null,
              ${db.sql.json({ type: 'HostCreated', ipAddress: '10.0.0.2', hostname: 'lib.lan', comment: 'line one\nline two\r\nthree', tags: ['t'] })}, now())`;
    [empty] = await emptyStores(1);
  });

  it('writes the hosts format exactly, to a file, atomically; without a file, the same text in pages', async () => {
    const file = join(dir, 'out.hosts');
    expect(await exportHosts({ ...on(db.url), output: file })).toMatchObject({ entries: 6, path: file, pages: null });
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[0]).toBe('# Generated by pgstore');
    expect(lines[1]).toMatch(/^# Last updated: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(lines.slice(2)).toEqual([
      '# Entry count: 6',
      '',
      '10.0.0.1\ttags-only.lan\t# [x]',
      '10.0.0.2\tlib.lan\t# line one line two three [t]',
      '192.168.1.1\tcomment.lan\t# it\'s "quoted", # and, [odd]; ok',
      '192.168.1.1\tone.lan uno.lan eins.lan\t# [a, b]',
      '192.168.10.1\tten.lan',
      '::1\tv6.lan\t# ends with a bracket [really] []',
      '',
    ]);
    const paged = await exportHosts(on(db.url));
    const chunks: string[] = [];
    for await (const chunk of paged.pages!) chunks.push(chunk);
    expect(chunks.join('').split('\n').slice(2)).toEqual(lines.slice(2));
  });

  it('(the library-made entry, whose comment the commands would refuse, is removed first)', async () => {
    await removeHost({ ...on(db.url), id: 'lib-h1' });
  });

  it.each(['hosts', 'jsonl', 'csv'] as const)(
    'round-trips through the %s format into an empty database',
    async (format) => {
      await empty.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
      const file = join(dir, `round-trip.${format}`);
      await exportHosts({ ...on(db.url), format, output: file });
      expect(await importFile(file, { format, mode: 'strict', url: empty.url })).toMatchObject({
        created: 5,
        failed: 0,
      });
      expect(await entries(empty.url)).toEqual(await entries());
    },
  );

  it('round-trips the real fixture', async () => {
    await empty.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    await importFile(FIXTURE);
    const file = join(dir, 'fixture-out.hosts');
    await exportHosts({ ...on(db.url), output: file });
    expect(await importFile(file, { url: empty.url })).toMatchObject({ created: 1567, failed: 0 });
    expect(await entries(empty.url)).toEqual(await entries());
  });
});

describe('an import into an empty store (loaded in bulk)', () => {
  let bulk: Store;
  let checked: Store;

  beforeAll(async () => {
    [bulk, checked] = await emptyStores(2);
  });

  const events = (sql: typeof db.sql) => sql`
    select event - 'createdAt' as event, created_by, event_type, expected_version from hosts.host_events
     where event ->> 'hostname' <> 'first.lan' order by event ->> 'hostname'`;
  const indexes = (
    sql: typeof db.sql,
  ) => sql`select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as def from pg_index
     where indrelid in ('hosts.host_events'::regclass, 'hosts.streams'::regclass, 'hosts.hosts'::regclass) order by 1`;

  const trgmOid = async (sql: typeof db.sql) =>
    (await sql`select 'hosts.hosts_hostname_trgm_idx'::regclass::oid as oid`)[0]!.oid as number;

  it('gives the same entries and events as the checked path, and leaves the tables as they were', async () => {
    const before = await indexes(bulk.sql);
    const [bulkOid, checkedOid] = [await trgmOid(bulk.sql), await trgmOid(checked.sql)];
    // One entry first: the projection is not empty, so this import goes through the trigger.
    await addHost({ ...on(checked.url), ip: '10.9.9.9', hostname: 'first.lan' });
    expect(await importFile(FIXTURE, { url: checked.url })).toMatchObject({ created: 1567, failed: 0 });
    expect(await importFile(FIXTURE, { dryRun: true, url: bulk.url })).toMatchObject({ created: 1567, written: false });
    expect(await entries(bulk.url)).toEqual([]);
    expect(await trgmOid(bulk.sql)).toBe(bulkOid);
    expect(await importFile(FIXTURE, { url: bulk.url })).toMatchObject({ created: 1567, failed: 0 });

    expect(await entries(bulk.url)).toEqual((await entries(checked.url)).filter((e) => e.hostname !== 'first.lan'));
    expect(await events(bulk.sql)).toEqual(await events(checked.sql));
    expect(await indexes(bulk.sql)).toEqual(before);
    // The bulk path built the projection's indexes again; the checked one kept them.
    expect(await trgmOid(bulk.sql)).not.toBe(bulkOid);
    expect(await trgmOid(checked.sql)).toBe(checkedOid);
    const [state] = await bulk.sql`
      select (select count(*) from (select id, ip_address, hostname, aliases, comment, tags, version from hosts.fold_at('infinity')
                                    except select id, ip_address, hostname, aliases, comment, tags, version from hosts.hosts) x)::int as differ,
             (select count(*) from hosts.streams s join hosts.host_events e on e.seq = s.last_seq and e.event_version = s.version)::int as streams,
             (select bool_and(tgenabled = 'O') from pg_trigger where tgrelid = 'hosts.host_events'::regclass and not tgisinternal) as triggers_on,
             (select count(*) from hosts.host_events where recorded_at > now() - interval '1 minute')::int as recorded_now`;
    expect(state).toEqual({ differ: 0, streams: 1567, triggers_on: true, recorded_now: 1567 });
    // Appends after the bulk load go through the trigger as usual.
    await addHost({ ...on(bulk.url), ip: '10.9.9.9', hostname: 'first.lan' });
    expect(await importFile(FIXTURE, { url: bulk.url })).toMatchObject({ created: 0, skipped: 1567 });
  });
});

describe('the bulk path encodes what needs escaping as the checked path does', () => {
  let bulk: Store;
  let checked: Store;
  beforeAll(async () => {
    [bulk, checked] = await emptyStores(2);
  });

  it('the real file with aliases, comments and tags full of backslashes, quotes and Unicode', async () => {
    // The fixture's hosts, each with an alias, a comment and tags that COPY and JSON must escape.
    let n = 0;
    const text = readFileSync(FIXTURE, 'utf8').replace(/^127\.0\.0\.1\t(\S+)$/gm, (_, host: string) => {
      n++;
      const tags = n % 4 === 0 ? '' : ` [t${n % 3}, back\\slash${n % 2}, é\\n]`;
      return `10.${n >> 8}.${n & 255}.1\t${host} alias.${host}\t# C:\\dir\\${n} "quoted" \\t é ☃ 😀 {a,b} \\N${tags}`;
    });
    expect(n).toBe(1567);
    const file = join(dir, 'decorated.hosts');
    writeFileSync(file, text);
    await addHost({ ...on(checked.url), ip: '10.255.255.255', hostname: 'first.lan' });
    expect(await importFile(file, { url: checked.url })).toMatchObject({ created: 1567, failed: 0 });
    expect(await importFile(file, { url: bulk.url })).toMatchObject({ created: 1567, failed: 0 });

    const all = await entries(bulk.url);
    expect(all).toEqual((await entries(checked.url)).filter((e) => e.hostname !== 'first.lan'));
    expect(all[1]).toMatchObject({ comment: expect.stringMatching(/^C:\\dir\\\d+ "quoted" \\t é ☃ 😀 \{a,b\} \\N$/) });
    expect(all.some((e) => e.tags.includes('back\\slash1') && e.tags.includes('é\\n'))).toBe(true);
    const events = (sql: typeof db.sql) => sql`
      select event - 'createdAt' as event, event_type, expected_version from hosts.host_events
       where event ->> 'hostname' <> 'first.lan' order by event ->> 'hostname'`;
    expect(await events(bulk.sql)).toEqual(await events(checked.sql));
    const [state] = await bulk.sql`
      select (select count(*) from (select id, ip_address, hostname, aliases, comment, tags, version from hosts.fold_at('infinity')
                                    except select id, ip_address, hostname, aliases, comment, tags, version from hosts.hosts) x)::int as differ,
             (select count(*) from hosts.hosts)::int as live`;
    expect(state).toEqual({ differ: 0, live: 1567 });
  });
});

describe('a large hosts file streams into an empty store while it is read', () => {
  let target: Store;
  beforeAll(async () => {
    [target] = await emptyStores(1);
  });

  it('reports bad and repeated lines as the checked path does, gives back unused sequence numbers, and strict mode writes nothing', async () => {
    // The real file, a bad line and a repeat of its first entry at the end (after several slices).
    const file = join(dir, 'streamed.hosts');
    writeFileSync(
      file,
      `${readFileSync(FIXTURE, 'utf8')}\nnot-an-ip bad.example\n127.0.0.1\t01.shgrasp.vip\n127.0.0.1\n`,
    );
    const problems = (r: { errors: unknown[] }) => r.errors;
    // The checked path's answer: the same file into a store with one entry already.
    await addHost({ ...on(target.url), ip: '10.9.9.9', hostname: 'first.lan' });
    const checked = await importFile(file, { url: target.url });
    const checkedStrict = await importFile(file, { url: target.url, mode: 'strict' });
    await target.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;

    const strict = await importFile(file, { url: target.url, mode: 'strict' });
    expect(strict).toMatchObject({ written: false, created: 1567, failed: 3, processed: 1570 });
    expect(problems(strict)).toEqual(
      problems(checkedStrict).filter((e) => !(e as { message: string }).message.includes('exists already')),
    );
    expect(await target.sql`select count(*)::int as n from hosts.host_events`).toEqual([{ n: 0 }]);

    const [{ before }] = await target.sql`select nextval('hosts.host_events_seq_seq')::int as before`;
    const trgm = async () => (await target.sql`select 'hosts.hosts_hostname_trgm_idx'::regclass::oid as oid`)[0]!.oid;
    const oid = await trgm();
    const skip = await importFile(file, { url: target.url });
    expect(await trgm()).not.toBe(oid); // loaded in bulk (its indexes built again)
    expect(skip).toMatchObject({ written: true, created: 1567, skipped: 1, failed: 2, processed: 1570 });
    expect(problems(skip)).toEqual(problems(checked));
    const [seq] = await target.sql`
      select min(seq)::int as first, max(seq)::int as last, count(*)::int as n,
             (select last_value::int from hosts.host_events_seq_seq) as last_value from hosts.host_events`;
    expect(seq).toEqual({ first: before + 1, last: before + 1567, n: 1567, last_value: before + 1567 });
    expect(await entries(target.url)).toHaveLength(1567);
  });
});

describe('the bulk import steps aside when it cannot have the tables to itself', () => {
  let target: Store;
  const trgm = async () =>
    (await target.sql`select 'hosts.hosts_hostname_trgm_idx'::regclass::oid as oid`)[0]!.oid as number;

  beforeEach(async () => {
    [target] = await emptyStores(1);
  });

  it('a transaction that read the projection and appends later does not deadlock with it', async () => {
    const before = await trgm();
    const reader = await target.sql.reserve();
    try {
      await reader`begin`;
      await reader`select count(*) from hosts.hosts`;
      // Bulk would need the tables exclusively: it finds them in use and takes the checked path.
      const r = await importFile(FIXTURE, { url: target.url });
      expect(r).toMatchObject({ created: 1567, failed: 0 });
      await reader`insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, expected_version, event, created_at)
        values ('late-e1', 'late-h1', 'HostCreated', 'late-v1', null, ${reader.json({ type: 'HostCreated', ipAddress: '10.1.1.1', hostname: 'late.lan', tags: [] })}, now())`;
      await reader`commit`;
    } finally {
      reader.release();
    }
    expect(await trgm()).toBe(before);
    expect((await target.sql`select count(*)::int as n from hosts.hosts`)[0]!.n).toBe(1568);
  });

  it('a role that does not own the tables imports through the checked path', async () => {
    const role = `imp_${Math.random().toString(16).slice(2, 10)}`;
    await target.sql.unsafe(`create role ${role} login password 'imp-pass'`);
    try {
      await target.sql.unsafe(`grant usage on schema hosts to ${role}; grant select, insert, update, delete on all tables in schema hosts to ${role};
        grant usage on all sequences in schema hosts to ${role}`);
      const url = new URL(target.url);
      url.username = role;
      url.password = 'imp-pass';
      const before = await trgm();
      const r = await importFile(FIXTURE, { url: url.toString() });
      expect(r).toMatchObject({ created: 1567, failed: 0 });
      expect(await trgm()).toBe(before);
    } finally {
      await target.sql.unsafe(`drop owned by ${role}; drop role ${role}`).catch(() => undefined);
    }
  });
});

describe('import progress', () => {
  it('names the server’s work after the last line is sent, and ends at its total', async () => {
    const [target] = await emptyStores(1);
    const file = join(dir, 'progress.hosts');
    writeFileSync(file, Array.from({ length: 3000 }, (_, i) => `10.7.${i >> 8}.${i & 255} p${i}.lan\n`).join(''));
    const events: Array<[number, number, string | undefined]> = [];
    const result = await importFile(file, {
      url: target.url,
      onProgress: (done, total, phase) => events.push([done, total, phase]),
    });
    expect(result.created).toBe(3000);
    const phases = events.map(([, , phase]) => phase).filter(Boolean);
    expect(phases).toEqual(['building keys and indexes', 'committing']);
    const [done, total] = events.at(-1)!;
    expect(done).toBe(total);
  });

  it('into a store that has entries, names the wait while the database applies the sent events', async () => {
    const target = await createTestDatabase();
    try {
      // Not empty: the events go through one checked COPY, which the database applies as a set
      // once the last row is sent (seconds for 100k entries), before the commit.
      writeFileSync(join(dir, 'one.hosts'), '10.8.0.1 first.lan\n');
      expect((await importFile(join(dir, 'one.hosts'), { url: target.url })).created).toBe(1);
      const file = join(dir, 'progress-nonempty.hosts');
      writeFileSync(file, Array.from({ length: 3000 }, (_, i) => `10.9.${i >> 8}.${i & 255} q${i}.lan\n`).join(''));
      const events: Array<[number, number, string | undefined]> = [];
      const result = await importFile(file, {
        url: target.url,
        onProgress: (done, total, phase) => events.push([done, total, phase]),
      });
      expect(result.created).toBe(3000);
      expect(events.filter(([, , phase]) => phase).map(([done, total, phase]) => [done, total, phase])).toEqual([
        [3000, 3000, 'applying the events'],
        [3000, 3000, 'committing'],
      ]);
    } finally {
      await target.drop();
    }
  });
});
