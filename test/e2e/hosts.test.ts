/**
 * `pgstore hosts` end to end: add/show/list/update/rm/history,
 * validation and conflict exit codes, every list flag honoured.
 * The cases run the CLI's entry in-process (test/helpers/cli-in-process.ts: same parsing,
 * output and exit codes, no node start-up each); `hosts show` runs through the built binary.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
const cli = (args: string[], input?: string, run = runCliInProcess) =>
  run(args, { env: cleanEnv({ DATABASE_URL: db.url }), input });

interface Entry {
  id: string;
  ipAddress: string;
  hostname: string;
  aliases: string[];
  comment: string | null;
  tags: string[];
  version: string;
}

async function add(args: string[]): Promise<Entry> {
  const r = await cli(['hosts', 'add', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Entry;
}

async function list(args: string[] = []): Promise<Entry[]> {
  const r = await cli(['hosts', 'list', '--json', ...args]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Entry[];
}

describe('hosts add, show, update, rm, history', () => {
  let nas: Entry;

  beforeAll(async () => {
    nas = await add([
      '--ip',
      '192.168.1.10',
      '--hostname',
      'nas.lan',
      '--alias',
      'nas',
      '--alias',
      'storage.lan',
      '--comment',
      'the NAS',
      '--tag',
      'home',
      '--tag',
      'storage',
    ]);
  });

  it('adds and shows an entry', async () => {
    expect(nas).toMatchObject({
      ipAddress: '192.168.1.10',
      hostname: 'nas.lan',
      aliases: ['nas', 'storage.lan'],
      comment: 'the NAS',
      tags: ['home', 'storage'],
    });
    const shown = await cli(['hosts', 'show', nas.id], undefined, runCli);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('hostname:  nas.lan');
    expect(shown.stdout).toContain(`version:   ${nas.version}`);
  });

  it('refuses bad input with exit 2, naming the field', async () => {
    const badIp = await cli(['hosts', 'add', '--ip', '192.168.1.300', '--hostname', 'x.lan']);
    expect(badIp.code).toBe(2);
    expect(badIp.stderr).toMatch(/error: ip '192\.168\.1\.300' is not an IPv4 or IPv6 address/);
    expect(badIp.stderr).not.toMatch(/at .*\.js:\d+/);
    const badName = await cli(['hosts', 'add', '--ip', '::1', '--hostname', '-bad-.lan']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/hostname '-bad-\.lan'/);
    const badAlias = await cli(['hosts', 'add', '--ip', '::1', '--hostname', 'ok.lan', '--alias', 'a'.repeat(64)]);
    expect(badAlias.code).toBe(2);
    expect(badAlias.stderr).toMatch(/alias '.*' has a label longer than 63 characters/);
    const unicode = await cli(['hosts', 'add', '--ip', '::1', '--hostname', 'bücher.example']);
    expect(unicode.code).toBe(2);
    expect(unicode.stderr).toContain('xn--bcher-kva.example');
    const missing = await cli(['hosts', 'add', '--ip', '::1']);
    expect(missing.code).toBe(2);
  });

  it('refuses a live duplicate with exit 3', async () => {
    const r = await cli(['hosts', 'add', '--ip', '192.168.1.10', '--hostname', 'nas.lan']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('192.168.1.10 nas.lan');
  });

  it('updates fields, clears them, and keeps every change in the history', async () => {
    const r1 = await cli(['hosts', 'update', nas.id, '--comment', 'moved', '--tag', 'prod', '--json']);
    expect(r1.code).toBe(0);
    const u1 = JSON.parse(r1.stdout) as { entry: Entry; events: unknown[] };
    expect(u1.entry).toMatchObject({ comment: 'moved', tags: ['prod'], aliases: ['nas', 'storage.lan'] });
    expect(u1.events).toHaveLength(2);

    const r2 = await cli([
      'hosts',
      'update',
      nas.id,
      '--clear-comment',
      '--clear-aliases',
      '--ip',
      '192.168.1.11',
      '--expected-version',
      u1.entry.version,
      '--json',
    ]);
    expect(r2.code).toBe(0);
    const u2 = JSON.parse(r2.stdout) as { entry: Entry };
    expect(u2.entry).toMatchObject({ ipAddress: '192.168.1.11', comment: null, aliases: [], tags: ['prod'] });

    const history = await cli(['hosts', 'history', nas.id, '--json']);
    const types = (JSON.parse(history.stdout) as Array<{ event: { type: string } }>).map((e) => e.event.type);
    expect(types).toEqual([
      'HostCreated',
      'CommentUpdated',
      'TagsModified',
      'IpAddressChanged',
      'AliasesModified',
      'CommentUpdated',
    ]);
    const table = await cli(['hosts', 'history', nas.id]);
    expect(table.stdout).toContain('IpAddressChanged');
    expect(table.stdout).toContain('ip 192.168.1.10 → 192.168.1.11');
    nas = u2.entry;
  });

  it('a stale --expected-version exits 3 and shows expected and actual', async () => {
    const r = await cli(['hosts', 'update', nas.id, '--comment', 'late', '--expected-version', 'STALE']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('expected version STALE');
    expect(r.stderr).toContain(`actual version ${nas.version}`);
    expect((await list()).find((e) => e.id === nas.id)?.comment).toBeNull();
  });

  it('update with nothing to change is a usage error; --comment and --clear-comment conflict', async () => {
    expect((await cli(['hosts', 'update', nas.id])).code).toBe(2);
    expect((await cli(['hosts', 'update', nas.id, '--comment', 'x', '--clear-comment'])).code).toBe(2);
  });

  it('rm deletes (tombstone): gone from list and show, history stays', async () => {
    const victim = await add(['--ip', '10.9.9.9', '--hostname', 'victim.lan']);
    const r = await cli(['hosts', 'rm', victim.id, '--reason', 'decommissioned']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Deleted host ${victim.id}`);
    expect((await list()).some((e) => e.id === victim.id)).toBe(false);
    const show = await cli(['hosts', 'show', victim.id]);
    expect(show.code).toBe(2);
    expect(show.stderr).toContain('not found');
    const history = JSON.parse((await cli(['hosts', 'history', victim.id, '--json'])).stdout) as Array<{
      event: { type: string; reason?: string };
    }>;
    expect(history.at(-1)?.event).toMatchObject({ type: 'HostDeleted', reason: 'decommissioned' });
    expect((await cli(['hosts', 'rm', victim.id])).code).toBe(2);
    // The pair is free again.
    await add(['--ip', '10.9.9.9', '--hostname', 'victim.lan']);
    expect((await cli(['hosts', 'history', 'no-such-id'])).code).toBe(2);
  });
});

describe('hosts list honours every flag', () => {
  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    await add(['--ip', '192.168.10.1', '--hostname', 'ten.lan', '--tag', 'prod']);
    await add(['--ip', '192.168.1.1', '--hostname', 'one.lan', '--tag', 'prod', '--tag', 'web']);
    await add(['--ip', '192.168.1.1', '--hostname', 'api.lan', '--tag', 'dev', '--comment', 'the API']);
    await add(['--ip', '10.0.0.5', '--hostname', 'db.internal']);
  });

  it('orders by IP then hostname, byte order', async () => {
    expect((await list()).map((e) => `${e.ipAddress} ${e.hostname}`)).toEqual([
      '10.0.0.5 db.internal',
      '192.168.1.1 api.lan',
      '192.168.1.1 one.lan',
      '192.168.10.1 ten.lan',
    ]);
  });

  it('filters by --tag (any of), --search, --ip, ANDed; pages with --limit and --offset', async () => {
    expect((await list(['--tag', 'prod'])).map((e) => e.hostname)).toEqual(['one.lan', 'ten.lan']);
    expect((await list(['--tag', 'web', '--tag', 'dev'])).map((e) => e.hostname)).toEqual(['api.lan', 'one.lan']);
    expect((await list(['--search', '.lan'])).map((e) => e.hostname)).toEqual(['api.lan', 'one.lan', 'ten.lan']);
    expect((await list(['--ip', '168.1.'])).map((e) => e.hostname)).toEqual(['api.lan', 'one.lan']);
    expect((await list(['--ip', '192.168', '--tag', 'prod', '--search', 'ten'])).map((e) => e.hostname)).toEqual([
      'ten.lan',
    ]);
    expect((await list(['--search', '%'])).map((e) => e.hostname)).toEqual([]);
    expect((await list(['--limit', '2'])).map((e) => e.hostname)).toEqual(['db.internal', 'api.lan']);
    expect((await list(['--limit', '2', '--offset', '2'])).map((e) => e.hostname)).toEqual(['one.lan', 'ten.lan']);
    expect((await cli(['hosts', 'list', '--limit', 'lots'])).code).toBe(2);
    const zero = await cli(['hosts', 'list', '--limit', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--limit must be a whole number ≥ 1, got '0'/);
  });

  it('a table page says how many match in all: "2 of 4 entries"', async () => {
    const last = (r: { stdout: string }) => r.stdout.trimEnd().split('\n').at(-1);
    const page = await cli(['hosts', 'list', '--limit', '2']);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toContain('db.internal');
    expect(last(page)).toBe('2 of 4 entries');
    expect(last(await cli(['hosts', 'list', '--limit', '3', '--offset', '2']))).toBe(
      '2 of 4 entries, after the first 2',
    );
    expect(last(await cli(['hosts', 'list', '--limit', '1', '--tag', 'prod']))).toBe('1 of 2 entries');
    expect(last(await cli(['hosts', 'list', '--limit', '5', '--tag', 'dev']))).toBe('1 entry'); // all of them
    expect(last(await cli(['hosts', 'list', '--offset', '9']))).toBe(
      'No host entries after the first 9 (4 entries in all).',
    );
  });

  it('prints a table, CSV and the hosts format', async () => {
    const table = await cli(['hosts', 'list']);
    expect(table.stdout).toMatch(/ID\s+│ IP\s+│ HOSTNAME\s+│ ALIASES\s+│ COMMENT\s+│ TAGS/);
    expect(table.stdout).toContain('4 entries');
    const csv = await cli(['hosts', 'list', '--format', 'csv', '--tag', 'dev']);
    expect(csv.stdout).toBe('ip_address,hostname,aliases,comment,tags\r\n192.168.1.1,api.lan,,the API,dev\r\n');
    const hostsFile = await cli(['hosts', 'list', '--format', 'hosts', '--ip', '192.168.1.']);
    expect(hostsFile.stdout).toMatch(
      /^# Generated by pgstore\n# Last updated: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n# Entry count: 2\n\n/,
    );
    expect(hostsFile.stdout.split('\n').slice(4)).toEqual([
      '192.168.1.1\tapi.lan\t# the API [dev]',
      '192.168.1.1\tone.lan\t# [prod, web]',
      '',
    ]);
  });
});
