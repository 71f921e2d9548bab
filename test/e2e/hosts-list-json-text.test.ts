/**
 * `hosts list --json`, `--format ndjson` and `hosts export --json` write JSON bytes straight from
 * COPY's text (store/hosts/hosts-copy-out.ts, ui/host-json-bytes.ts): byte for byte what
 * JSON.stringify gives for the library's listAll(), for awkward values: quotes, backslashes,
 * `","` and brackets inside list elements, control characters (\v too, which COPY escapes and
 * JSON does not name), non-ASCII and astral characters, null comments and null list elements,
 * IPv6, and times written in other zones with microseconds, read in a session whose time zone
 * is not UTC and whose DateStyle is not ISO. The CLI's entry runs in-process
 * (test/helpers/cli-in-process.ts: the same bytes on stdout, no node start-up each);
 * json-contract.test.ts runs `hosts list --json` through the built binary.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHostsStore } from '../../src/store/hosts/hosts.js';
import { cleanEnv } from '../helpers/cli.js';
import { runCliInProcess as runCli } from '../helpers/cli-in-process.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
const env = () => cleanEnv({ DATABASE_URL: db.url });
const ROWS = 300;

const PIECES = [
  '"',
  '\\',
  '","',
  '["',
  '"]',
  '\\"',
  '\\\\"',
  '\n',
  '\r\t',
  '\b\f',
  '\v',
  '\u0001',
  '\u001f',
  '\u007f',
  'é',
  '😀',
  '\u2028\u2029',
  '漢字',
  ' ',
  'null',
  ',',
  '[',
  ']',
  '{}',
  '/',
  '</script>',
  'plain',
];
const ZONES = ['+00', '-07', '+05:45', '+14', '-09:30', 'Z'];

/** A small deterministic generator (the same data every run). */
function generator(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state >>> 12; // the high bits: a power-of-two LCG's low bits cycle
  };
  const pick = <T>(list: readonly T[]) => list[next() % list.length]!;
  const text = (min = 0) => {
    let s = '';
    const n = min + (next() % 4);
    for (let i = 0; i < n; i++) s += pick(PIECES);
    return s || 'x';
  };
  const time = () => {
    const day = 1 + (next() % 28);
    const micro = String(next() % 1_000_000).padStart(6, '0');
    return `20${10 + (next() % 20)}-0${1 + (next() % 9)}-${String(day).padStart(2, '0')} ${String(next() % 24).padStart(2, '0')}:${String(next() % 60).padStart(2, '0')}:59.${micro}${pick(ZONES)}`;
  };
  const list = () => {
    const items: Array<string | null> = [];
    const n = next() % 4;
    for (let i = 0; i < n; i++) items.push(next() % 17 === 0 ? null : next() % 2 ? text(1) : `t${next() % 5}`);
    return items;
  };
  return { next, pick, text, time, list };
}

beforeAll(async () => {
  const g = generator(15);
  const events = Array.from({ length: ROWS }, (_, i) => {
    const ip =
      i % 3 === 0
        ? `2001:db8::${(i * 7919).toString(16)}`
        : i % 3 === 1
          ? `10.0.${i >> 8}.${i & 255}`
          : `fe80::${i.toString(16)}%eth0`;
    return {
      event_id: `e${i}`,
      aggregate_id: i % 10 === 0 ? `h${i}-${g.text()}` : `h${i}`,
      event_version: i % 7 === 0 ? `v${g.text()}` : `v${i}`,
      created_at: g.time(),
      event: {
        type: 'HostCreated',
        ipAddress: ip,
        hostname: i % 2 ? `${g.text(1)}.example` : `host${i}.example`,
        aliases: g.list(),
        comment: g.next() % 3 === 0 ? null : g.text(),
        tags: g.list(),
        createdAt: new Date().toISOString(),
      },
    };
  });
  // Bulk-loaded as the bench does (triggers off, then the projection rebuilt), so odd values the
  // CLI would refuse (null list elements, control characters) are in the table too.
  await db.sql.unsafe('alter table hosts.host_events disable trigger user');
  await db.sql`
    insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, event, created_at)
    select e.event_id, e.aggregate_id, 'HostCreated', e.event_version, e.event, e.created_at
    from jsonb_to_recordset(${JSON.stringify(events)}::text::jsonb)
      as e(event_id text, aggregate_id text, event_version text, event jsonb, created_at timestamptz)`;
  await db.sql.unsafe('alter table hosts.host_events enable trigger user');
  await db.sql.unsafe('select hosts.rebuild_projection()');
  // The CLI's session reads the times in a zone that is not UTC, with a half-hour offset, and
  // prints dates in another style than ISO by default.
  await db.sql.unsafe(`alter database ${db.name} set timezone = 'Asia/Kolkata'`);
  await db.sql.unsafe(`alter database ${db.name} set datestyle = 'SQL, DMY'`);
}, 60_000);

describe('hosts list --json: the server-made text is the library JSON, byte for byte', () => {
  it('has the awkward values the test is about', async () => {
    const [row] = await db.sql<{ nulls: number; backslashes: number; commas: number; quotes: number; v6: number }[]>`
      select count(*) filter (where array_position(aliases, null) is not null or array_position(tags, null) is not null)::int as nulls,
             count(*) filter (where strpos(array_to_string(aliases || tags, ''), '\\') > 0)::int as backslashes,
             count(*) filter (where array_position(aliases || tags, ',') is not null)::int as commas,
             count(*) filter (where array_to_string(aliases || tags, '') like '%","%')::int as quotes,
             count(*) filter (where ip_address like '%:%')::int as v6
      from hosts.hosts`;
    expect(row!.nulls).toBeGreaterThan(3);
    expect(row!.backslashes).toBeGreaterThan(10);
    expect(row!.quotes).toBeGreaterThan(3);
    expect(row!.commas).toBeGreaterThan(0);
    expect(row!.v6).toBeGreaterThan(100);
  });

  it('--json, hosts export --json and --format ndjson match JSON.stringify(listAll())', async () => {
    const entries = await createHostsStore(db.sql).listAll();
    expect(entries.length).toBe(ROWS);
    const [json, exported, ndjson, page] = await Promise.all([
      runCli(['hosts', 'list', '--json'], { env: env() }),
      runCli(['hosts', 'export', '--json'], { env: env() }),
      runCli(['hosts', 'list', '--format', 'ndjson'], { env: env() }),
      runCli(['hosts', 'list', '--json', '--limit', '7', '--offset', '11'], { env: env() }),
    ]);
    for (const r of [json, exported, ndjson, page]) expect(r.code, r.stderr).toBe(0);
    expect(json.stdout).toBe(`${JSON.stringify(entries, null, 2)}\n`);
    expect(exported.stdout).toBe(json.stdout);
    expect(ndjson.stdout).toBe(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    expect(page.stdout).toBe(`${JSON.stringify(entries.slice(11, 18), null, 2)}\n`);
  }, 60_000);

  it('filters (tag, IP and hostname substrings with LIKE characters) and paging select what search() does', async () => {
    const store = createHostsStore(db.sql);
    const cases: Array<{
      args: string[];
      filter: Parameters<typeof store.search>[0];
      page?: { limit?: number; offset?: number };
    }> = [
      { args: ['--tag', 't1', '--tag', 't3'], filter: { tags: ['t1', 't3'] } },
      {
        args: ['--ip', '2001:db8::', '--limit', '9', '--offset', '4'],
        filter: { ipPattern: '2001:db8::' },
        page: { limit: 9, offset: 4 },
      },
      { args: ['--search', '\\'], filter: { hostnamePattern: '\\' } },
      { args: ['--search', '_'], filter: { hostnamePattern: '_' } },
    ];
    for (const c of cases) {
      const expected = await store.search(c.filter, c.page ?? {});
      // `_` matches itself (no hostname has one): a wildcard would match them all.
      if (c.args[1] === '_') expect(expected).toEqual([]);
      else expect(expected.length).toBeGreaterThan(0);
      const r = await runCli(['hosts', 'list', '--json', ...c.args], { env: env() });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout, c.args.join(' ')).toBe(`${JSON.stringify(expected, null, 2)}\n`);
    }
  }, 60_000);

  it('an empty list is [] (json) and nothing (ndjson)', async () => {
    const [json, ndjson] = await Promise.all([
      runCli(['hosts', 'list', '--json', '--search', 'no such host'], { env: env() }),
      runCli(['hosts', 'list', '--format', 'ndjson', '--search', 'no such host'], { env: env() }),
    ]);
    expect(json.stdout).toBe('[]\n');
    expect(ndjson.stdout).toBe('');
  }, 60_000);
});
