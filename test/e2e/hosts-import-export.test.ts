/**
 * `pgstore hosts import` and `hosts export` end to end: the real hosts fixture, line-numbered
 * errors (exit 2), modes skip/replace/strict, dry runs, standard input, atomic export, and
 * export → import into an empty database giving the same entries, in every format.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { createTestDatabase, useTestDatabase } from '../helpers/db.js';

const FIXTURE = new URL('../fixtures/hosts/urlhaus.hosts', import.meta.url).pathname;
const db = useTestDatabase();
const cli = (args: string[], options: { url?: string; input?: string } = {}) =>
  runCli(args, { env: cleanEnv({ DATABASE_URL: options.url ?? db.url }), input: options.input });
const dir = mkdtempSync(join(tmpdir(), 'pgstore-hosts-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Summary {
  processed: number;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  written: boolean;
  errors: Array<{ line: number; field: string; message: string }>;
}

interface Entry {
  ipAddress: string;
  hostname: string;
  aliases: string[];
  comment: string | null;
  tags: string[];
}

async function entries(url = db.url): Promise<Entry[]> {
  const r = await cli(['hosts', 'list', '--json'], { url });
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as Entry[]).map(({ ipAddress, hostname, aliases, comment, tags }) => ({ ipAddress, hostname, aliases, comment, tags }));
}

async function importJson(args: string[], options: { url?: string; input?: string } = {}): Promise<{ code: number | null; summary: Summary; stderr: string }> {
  const r = await cli(['hosts', 'import', ...args, '--json'], options);
  return { code: r.code, summary: JSON.parse(r.stdout) as Summary, stderr: r.stderr };
}

describe('import of the real hosts file', () => {
  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
  });

  it('imports all 1,567 entries', async () => {
    const r = await cli(['hosts', 'import', FIXTURE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('processed 1567, created 1567, updated 0, skipped 0, failed 0');
    const all = await entries();
    expect(all).toHaveLength(1567);
    expect(all.every((e) => e.ipAddress === '127.0.0.1' && e.aliases.length === 0 && e.comment === null)).toBe(true);
    expect(all[0]!.hostname).toBe('01.shgrasp.vip');
  });

  it('skips them all the second time, and strict refuses without writing', async () => {
    const again = await importJson([FIXTURE]);
    expect(again.code).toBe(0);
    expect(again.summary).toMatchObject({ processed: 1567, created: 0, skipped: 1567, failed: 0 });
    const strict = await importJson([FIXTURE, '--mode', 'strict']);
    expect(strict.code).toBe(3);
    expect(strict.summary).toMatchObject({ failed: 1567, written: false });
    expect(strict.summary.errors[0]).toMatchObject({ line: 9, field: 'hostname' });
    expect(await entries()).toHaveLength(1567);
  });
});

describe('import errors, modes and dry runs', () => {
  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
  });

  const bad = ['# a comment', '', '10.0.0.1\tgood.lan', '10.0.0.300\tbad-ip.lan', '10.0.0.2\tbad_name.lan', '10.0.0.3', '10.0.0.4\tok.lan -alias-', '10.0.0.5\tfine.lan fine\t# kept [t1, t2]'].join('\n');

  it('reports every bad line with its number and field, exits 2, imports the good ones (skip mode)', async () => {
    const file = join(dir, 'bad.hosts');
    writeFileSync(file, bad);
    const r = await cli(['hosts', 'import', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: line 4: ip: ip '10.0.0.300' is not an IPv4 or IPv6 address");
    expect(r.stderr).toContain("error: line 5: hostname: hostname 'bad_name.lan'");
    expect(r.stderr).toContain('error: line 6: hostname: hostname is missing');
    expect(r.stderr).toContain("error: line 7: alias: alias '-alias-'");
    expect(r.stdout).toContain('processed 6, created 2, updated 0, skipped 0, failed 4');
    expect((await entries()).map((e) => e.hostname)).toEqual(['good.lan', 'fine.lan']);
    expect((await entries())[1]).toMatchObject({ aliases: ['fine'], comment: 'kept', tags: ['t1', 't2'] });
  });

  it('strict mode with a bad line writes nothing', async () => {
    const file = join(dir, 'strict.hosts');
    writeFileSync(file, '10.1.1.1 new.lan\n10.1.1.2 bad..lan\n');
    const r = await importJson([file, '--mode', 'strict']);
    expect(r.code).toBe(2);
    expect(r.summary).toMatchObject({ processed: 2, failed: 1, written: false });
    expect(r.summary.errors).toEqual([{ line: 2, field: 'hostname', message: "hostname 'bad..lan' has an empty label", kind: 'invalid' }]);
    expect((await entries()).some((e) => e.hostname === 'new.lan')).toBe(false);
  });

  it('replace mode updates existing entries; skip leaves them; dry runs write nothing', async () => {
    const file = join(dir, 'replace.hosts');
    writeFileSync(file, '10.0.0.5 fine.lan other\t# changed [t3]\n10.0.0.6 added.lan\n10.0.0.1 good.lan\n');
    const dry = await importJson([file, '--mode', 'replace', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.summary).toMatchObject({ processed: 3, created: 1, updated: 1, skipped: 1, written: false });
    expect((await entries()).some((e) => e.hostname === 'added.lan')).toBe(false);

    const skip = await importJson([file]);
    expect(skip.summary).toMatchObject({ created: 1, updated: 0, skipped: 2 });
    expect((await entries()).find((e) => e.hostname === 'fine.lan')).toMatchObject({ comment: 'kept' });

    const replace = await importJson([file, '--mode', 'replace']);
    expect(replace.summary).toMatchObject({ created: 0, updated: 1, skipped: 2 });
    expect((await entries()).find((e) => e.hostname === 'fine.lan')).toMatchObject({ aliases: ['other'], comment: 'changed', tags: ['t3'] });
  });

  it('reads standard input and the jsonl and csv formats', async () => {
    const jsonl = '{"ipAddress":"10.2.0.1","hostname":"json.lan","tags":["j"]}\n{"ipAddress":"10.2.0.2"}\nnot json\n';
    const r = await importJson(['-', '--format', 'jsonl'], { input: jsonl });
    expect(r.code).toBe(2);
    expect(r.summary).toMatchObject({ created: 1, failed: 2 });
    expect(r.summary.errors.map((e) => [e.line, e.field])).toEqual([
      [2, 'hostname'],
      [3, 'json'],
    ]);
    const csv = 'ip_address,hostname,aliases,comment,tags\n10.3.0.1,csv.lan,"c1 c2","a, ""quoted"" comment",x y\n';
    const c = await importJson(['-', '--format', 'csv'], { input: csv });
    expect(c.code).toBe(0);
    expect((await entries()).find((e) => e.hostname === 'csv.lan')).toEqual({ ipAddress: '10.3.0.1', hostname: 'csv.lan', aliases: ['c1', 'c2'], comment: 'a, "quoted" comment', tags: ['x', 'y'] });
  });

  it('a missing file is a usage error', async () => {
    const r = await cli(['hosts', 'import', join(dir, 'nope.hosts')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such file');
  });
});

describe('export, and export → import into an empty database', () => {
  let empty: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    const setup = [
      ['--ip', '192.168.10.1', '--hostname', 'ten.lan'],
      ['--ip', '192.168.1.1', '--hostname', 'one.lan', '--alias', 'uno.lan', '--alias', 'eins.lan', '--tag', 'a', '--tag', 'b'],
      ['--ip', '::1', '--hostname', 'v6.lan', '--comment', 'ends with a bracket [really]'],
      ['--ip', '192.168.1.1', '--hostname', 'comment.lan', '--comment', "it's \"quoted\", # and, [odd]; ok"],
      ['--ip', '10.0.0.1', '--hostname', 'tags-only.lan', '--tag', 'x'],
    ];
    for (const args of setup) expect((await cli(['hosts', 'add', ...args])).code).toBe(0);
    // Through the library (no validation): a comment with line breaks must not break the file.
    await db.sql`
      insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, expected_version, event, created_at)
      values ('lib-e1', 'lib-h1', 'HostCreated', 'lib-v1', null,
              ${db.sql.json({ type: 'HostCreated', ipAddress: '10.0.0.2', hostname: 'lib.lan', comment: 'line one\nline two\r\nthree', tags: ['t'] })}, now())`;
    empty = await createTestDatabase();
  });

  afterAll(async () => {
    await empty?.drop();
  });

  it('writes the hosts format exactly, to a file, atomically', async () => {
    const file = join(dir, 'out.hosts');
    const r = await cli(['hosts', 'export', '--output', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Wrote 6 entries to ${file}`);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
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
    // Standard output gets the same text.
    const stdout = await cli(['hosts', 'export']);
    expect(stdout.stdout.split('\n').slice(2)).toEqual(lines.slice(2));
  });

  it('an --output in a missing folder is a usage error naming the folder, not a temporary file', async () => {
    const r = await cli(['hosts', 'export', '--output', join(dir, 'no-such-folder', 'x.hosts')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*x\.hosts: the folder .*no-such-folder does not exist/);
    expect(r.stderr).not.toMatch(/tmp-/);
  });

  it('(the library-made entry, whose comment the commands would refuse, is removed first)', async () => {
    expect((await cli(['hosts', 'rm', 'lib-h1'])).code).toBe(0);
  });

  it.each(['hosts', 'jsonl', 'csv'])('round-trips through the %s format into an empty database', async (format) => {
    await empty.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    const file = join(dir, `round-trip.${format}`);
    expect((await cli(['hosts', 'export', '--format', format, '-o', file])).code).toBe(0);
    const r = await importJson([file, '--format', format, '--mode', 'strict'], { url: empty.url });
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ created: 5, failed: 0 });
    expect(await entries(empty.url)).toEqual(await entries());
  });

  it('round-trips the real fixture', async () => {
    await empty.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    expect((await cli(['hosts', 'import', FIXTURE])).code).toBe(0);
    const file = join(dir, 'fixture-out.hosts');
    expect((await cli(['hosts', 'export', '-o', file])).code).toBe(0);
    const r = await importJson([file], { url: empty.url });
    expect(r.summary).toMatchObject({ created: 1567, failed: 0 });
    expect(await entries(empty.url)).toEqual(await entries());
  });
});

describe('an import into an empty store (loaded in bulk)', () => {
  let bulk: Awaited<ReturnType<typeof createTestDatabase>>;
  let checked: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    [bulk, checked] = [await createTestDatabase(), await createTestDatabase()];
  });
  afterAll(async () => {
    await bulk?.drop();
    await checked?.drop();
  });

  const events = (sql: typeof db.sql) => sql`
    select event - 'createdAt' as event, created_by, event_type, expected_version from hosts.host_events
     where event ->> 'hostname' <> 'first.lan' order by event ->> 'hostname'`;
  const indexes = (sql: typeof db.sql) => sql`select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as def from pg_index
     where indrelid in ('hosts.host_events'::regclass, 'hosts.streams'::regclass, 'hosts.hosts'::regclass) order by 1`;

  const trgmOid = async (sql: typeof db.sql) => (await sql`select 'hosts.hosts_hostname_trgm_idx'::regclass::oid as oid`)[0]!.oid as number;

  it('gives the same entries and events as the checked path, and leaves the tables as they were', async () => {
    const before = await indexes(bulk.sql);
    const [bulkOid, checkedOid] = [await trgmOid(bulk.sql), await trgmOid(checked.sql)];
    // One entry first: the projection is not empty, so this import goes through the trigger.
    expect((await cli(['hosts', 'add', '--ip', '10.9.9.9', '--hostname', 'first.lan'], { url: checked.url })).code).toBe(0);
    expect((await importJson([FIXTURE], { url: checked.url })).summary).toMatchObject({ created: 1567, failed: 0 });
    expect((await importJson([FIXTURE, '--dry-run'], { url: bulk.url })).summary).toMatchObject({ created: 1567, written: false });
    expect(await entries(bulk.url)).toEqual([]);
    expect(await trgmOid(bulk.sql)).toBe(bulkOid);
    expect((await importJson([FIXTURE], { url: bulk.url })).summary).toMatchObject({ created: 1567, failed: 0 });

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
    expect((await cli(['hosts', 'add', '--ip', '10.9.9.9', '--hostname', 'first.lan'], { url: bulk.url })).code).toBe(0);
    expect((await importJson([FIXTURE], { url: bulk.url })).summary).toMatchObject({ created: 0, skipped: 1567 });
  });
});

describe('the bulk import steps aside when it cannot have the tables to itself', () => {
  let target: Awaited<ReturnType<typeof createTestDatabase>>;
  const trgm = async () => (await target.sql`select 'hosts.hosts_hostname_trgm_idx'::regclass::oid as oid`)[0]!.oid as number;

  beforeEach(async () => {
    target = await createTestDatabase();
  });
  afterEach(async () => {
    await target?.drop();
  });

  it('a transaction that read the projection and appends later does not deadlock with it', async () => {
    const before = await trgm();
    const reader = await target.sql.reserve();
    try {
      await reader`begin`;
      await reader`select count(*) from hosts.hosts`;
      // Bulk would need the tables exclusively: it finds them in use and takes the checked path.
      const r = await importJson([FIXTURE], { url: target.url });
      expect(r.summary).toMatchObject({ created: 1567, failed: 0 });
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
      const r = await importJson([FIXTURE], { url: url.toString() });
      expect(r.summary).toMatchObject({ created: 1567, failed: 0 });
      expect(await trgm()).toBe(before);
    } finally {
      await target.sql.unsafe(`drop owned by ${role}; drop role ${role}`).catch(() => undefined);
    }
  });
});
