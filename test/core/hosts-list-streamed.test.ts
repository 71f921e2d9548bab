/**
 * `hosts list` as a table, CSV and hosts file is read from one snapshot a page at a time
 * (core/hosts/listing.ts), on the real URLhaus hosts file (1,567 entries: past the size where
 * tables are drawn by cli-table3): the same text as the export, the same rows as the JSON,
 * pages by --limit/--offset, and a listing that stays on its snapshot while others write.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { addHost, exportHosts, importHosts, listHosts, openHostListing } from '../../src/core/hosts/index.js';
import { cleanEnv } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { useTestDatabase } from '../helpers/db.js';
import { on } from '../helpers/core.js';

const FIXTURE = new URL('../fixtures/hosts/urlhaus.hosts', import.meta.url).pathname;
const db = useTestDatabase();
const list = (...args: string[]) =>
  runCliInProcess(['hosts', 'list', ...args], { env: cleanEnv({ DATABASE_URL: db.url }) });
const exported = async (format: 'csv' | 'hosts') => {
  const { pages } = await exportHosts({ ...on(db.url), format });
  let text = '';
  for await (const page of pages!) text += page;
  return text;
};
/** The IDs in a drawn table's rows, top to bottom. */
const tableIds = (text: string) =>
  text
    .split('\n')
    .filter((line) => /^│ [0-9A-Z]{26} /.test(line))
    .map((line) => line.slice(2, 28));

let ids: string[];
beforeAll(async () => {
  await importHosts({ ...on(db.url), source: FIXTURE });
  ids = (await listHosts(on(db.url))).map((e) => e.id);
});

describe('hosts list, streamed', () => {
  it('prints the CSV and the hosts file the export prints', async () => {
    const csv = await list('--format', 'csv');
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe(await exported('csv'));
    const hosts = await list('--format', 'hosts');
    const updated = /^# Last updated: .*$/m;
    expect(hosts.stdout.replace(updated, '')).toBe((await exported('hosts')).replace(updated, ''));
    expect(hosts.stdout).toContain('# Entry count: 1567\n');
  });

  it('draws every entry in the table, in the JSON order, and says how many', async () => {
    const table = await list();
    expect(table.code).toBe(0);
    expect(ids).toHaveLength(1567);
    expect(tableIds(table.stdout)).toEqual(ids);
    expect(table.stdout.trimEnd().split('\n').at(-1)).toMatch(/^1,?567 entries$/);
  });

  it('draws a page with --limit and --offset, with the total', async () => {
    const table = await list('--limit', '700', '--offset', '100');
    expect(tableIds(table.stdout)).toEqual(ids.slice(100, 800));
    expect(table.stdout).toMatch(/700 of 1,?567 entries, after the first 100/);
    const hosts = await list('--format', 'hosts', '--offset', '1500');
    expect(hosts.stdout).toContain('# Entry count: 67\n');
    const past = await list('--offset', '2000');
    expect(past.stdout).toMatch(/No host entries after the first 2000 \(1,?567 entries in all\)/);
  });

  it('keeps to its snapshot: both passes and the count agree while another connection writes', async () => {
    const listing = await openHostListing(on(db.url));
    try {
      await addHost({ ...on(db.url), ip: '0.0.0.1', hostname: 'written-meanwhile.example' });
      const pass = async () => {
        const seen: string[] = [];
        for await (const page of listing.pages()) seen.push(...page.map((e) => e.id));
        return seen;
      };
      const first = await pass();
      expect(await pass()).toEqual(first);
      expect(first).toEqual(ids);
      expect(listing.count).toBe(1567);
    } finally {
      await listing.close();
    }
    expect(await listHosts(on(db.url))).toHaveLength(1568);
  });
});
