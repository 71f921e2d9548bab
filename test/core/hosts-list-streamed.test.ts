/**
 * `hosts list` as a table, CSV and hosts file is read from one snapshot a page at a time
 * (core/hosts/listing.ts), on the real URLhaus hosts file (1,567 entries: past the size where
 * tables are drawn by cli-table3): the same text as the export, the same rows as the JSON,
 * pages by --limit/--offset, and a listing that stays on its snapshot while others write.
 */
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import { addHost, exportHosts, importHosts, listHosts, openHostListing } from '../../src/core/hosts/index.js';
import { cleanEnv } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { emptyDatabases, useTestDatabase } from '../helpers/db.js';
import { on } from '../helpers/core.js';

const FIXTURE = new URL('../fixtures/hosts/urlhaus.hosts', import.meta.url).pathname;
const db = useTestDatabase();
const emptyDatabase = emptyDatabases();
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

  it('a hosts file read slowly still comes from its snapshot, whole (the listing is closed after it)', async () => {
    // stdout takes its first write (the header) only after another connection adds an entry:
    // the entries read after it must be the snapshot's, as many as the header counts. The
    // listing was closed as soon as the pages were handed to the writer (a `return` in a `try`
    // without `await`): the rest was read outside the snapshot, or cut (CONNECTION_DESTROYED).
    let text = '';
    let added = false;
    const stdout = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        text += chunk.toString('utf8');
        if (added) return callback();
        added = true;
        addHost({ ...on(db.url), ip: '0.0.0.2', hostname: 'added-while-listing.example' }).then(
          () => callback(),
          callback,
        );
      },
    });
    let stderr = '';
    const stderrStream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        stderr += chunk.toString('utf8');
        callback();
      },
    });
    const code = await run(
      ['node', 'pgstore', 'hosts', 'list', '--format', 'hosts'],
      { stdout, stderr: stderrStream },
      cleanEnv({ DATABASE_URL: db.url }),
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const counted = Number(/# Entry count: (\d+)/.exec(text)?.[1]);
    const lines = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(lines).toHaveLength(counted);
    expect(text).not.toContain('added-while-listing.example');
  });
});

describe("hosts list on a database without pgstore's schema", () => {
  it('list and export fail at once: the snapshot that could not count is let go, not waited for', async () => {
    // The count failed inside the snapshot; ending the pool then waited its 5 s for the
    // reserved connection, so `hosts list` took 5.5 s to say the schema is missing.
    const empty = await emptyDatabase();
    const started = performance.now();
    await expect(openHostListing(on(empty.url))).rejects.toThrow(/does not have pgstore's schema/);
    expect(performance.now() - started).toBeLessThan(3_000);
    const exportStarted = performance.now();
    await expect(exportHosts({ ...on(empty.url), format: 'csv' })).rejects.toThrow(/does not have pgstore's schema/);
    expect(performance.now() - exportStarted).toBeLessThan(3_000);
  });
});
