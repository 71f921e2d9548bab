/**
 * A subcommand's option that shares its name with its parent's: `backup list --format ndjson`
 * is list's output format, not pg_dump's `backup --format` (commander read every option of
 * `backup` wherever it stood, so `ndjson` was refused as a pg_dump format). The parent's own
 * options still work before the subcommand's name, and the program's (--json, --progress...)
 * anywhere. The first listing runs the built binary (commander as shipped, in the bundle); the
 * other cases run the CLI's entry in-process (test/helpers/cli-in-process.ts: the same commander
 * and parsing, no node start-up each).
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.js';
import { pgstore as pgstoreBinary, pgstoreInProcess as pgstore, tempDir } from './backup-helpers.js';

const db = useTestDatabase();
const dir = tempDir('subcommand-options');

describe('options a subcommand shares with its parent', () => {
  it('backup list --format ndjson/json is the listing, backup --format is still pg_dump', async () => {
    const taken = await pgstore(db.url, ['backup', '--dir', dir, '--format', 'plain', '--json']);
    expect(taken.code, taken.stderr).toBe(0);
    const { id, manifest } = JSON.parse(taken.stdout);
    expect(manifest.format).toBe('plain');
    const second = await pgstore(db.url, ['backup', '--format', 'custom', '--dir', dir, '--progress', 'none']);
    expect(second.code, second.stderr).toBe(0);

    const ndjson = await pgstoreBinary(db.url, ['backup', 'list', '--dir', dir, '--format', 'ndjson']);
    expect(ndjson.code, ndjson.stderr).toBe(0);
    const lines = ndjson.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const rows = lines.map((line) => JSON.parse(line));
    expect(rows.map((r) => r.format).sort()).toEqual(['custom', 'plain']);
    expect(rows.map((r) => r.id)).toContain(id);

    const json = await pgstore(db.url, ['backup', 'list', '--format', 'json', '--dir', dir]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(rows);
    // The program's --json, after the subcommand's name, as before.
    const global = await pgstore(db.url, ['backup', 'list', '--dir', dir, '--json']);
    expect(JSON.parse(global.stdout)).toEqual(rows);
  });

  it("a parent's option after the subcommand's name is an error, not silently the parent's", async () => {
    const r = await pgstore(db.url, ['backup', 'list', '--dir', dir, '--keep-last', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--keep-last'/);
    // prune has its own retention flags; backup's, given before `prune`, still reach it.
    for (const args of [
      ['backup', 'prune', '--keep-last', '1', '--dry-run', '--dir', dir, '--json'],
      ['backup', '--keep-last', '1', 'prune', '--dry-run', '--dir', dir, '--json'],
    ]) {
      const pruned = await pgstore(db.url, args);
      expect(pruned.code, pruned.stderr).toBe(0);
      expect(JSON.parse(pruned.stdout).kept).toHaveLength(1);
    }
  });

  it("list's help shows its own --format, not pg_dump's", async () => {
    const help = await pgstore(db.url, ['backup', 'list', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--format <format>\s+json: one document/);
    expect(help.stdout).not.toMatch(/custom, directory/);
    expect(help.stdout).toMatch(/Global Options:[\s\S]*--json/);
  });

  it("every other list's --format, and the program's flags after a subcommand, still work", async () => {
    const status = await pgstore(db.url, ['migrate', 'status', '--format', 'ndjson']);
    expect(status.code, status.stderr).toBe(0);
    for (const line of status.stdout.trimEnd().split('\n')) expect(JSON.parse(line)).toHaveProperty('state');
    const hosts = await pgstore(db.url, ['hosts', 'list', '--format', 'ndjson', '--limit', '1', '--quiet']);
    expect(hosts.code, hosts.stderr).toBe(0);
    const snapshots = await pgstore(db.url, ['snapshot', 'list', '--format', 'ndjson']);
    expect(snapshots.code, snapshots.stderr).toBe(0);
    const nagios = await pgstore(db.url, ['health', '--format', 'nagios']);
    expect(nagios.stdout).toMatch(/^PGSTORE (OK|WARNING|CRITICAL)/);
    const events = await pgstore(db.url, ['backup', '--dir', dir, '--progress', 'json', '--quiet']);
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout).toBe('');
    expect(JSON.parse(events.stderr.trimEnd().split('\n')[0]!)).toHaveProperty('phase');
  });
});
