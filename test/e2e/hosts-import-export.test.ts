/**
 * `pgstore hosts import` and `hosts export`: the CLI's contract (exit codes
 * 0, 2 for bad lines or a missing file, 3 for a strict refusal; line-numbered errors on stderr;
 * the summary on stdout, as text or JSON; standard input; the export's messages and standard
 * output). What the operations do to the data (modes, dry runs, formats, round trips, the bulk
 * load) is tested in-process: test/core/hosts-import-export.test.ts. The first import runs the
 * built binary; the other cases run the CLI's entry in-process (test/helpers/cli-in-process.ts:
 * same parsing, output and exit codes, standard input too, no node start-up each).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { useTestDatabase } from '../helpers/db.js';

const FIXTURE = new URL('../fixtures/hosts/urlhaus.hosts', import.meta.url).pathname;
const db = useTestDatabase();
const cli = (args: string[], options: { input?: string } = {}, run = runCliInProcess) =>
  run(args, { env: cleanEnv({ DATABASE_URL: db.url }), input: options.input });
const dir = mkdtempSync(join(tmpdir(), 'pgstore-hosts-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Summary {
  processed: number;
  created: number;
  failed: number;
  written: boolean;
  errors: Array<{ line: number; field: string; message: string }>;
}

const hostnames = async () =>
  (await db.sql<{ hostname: string }[]>`select hostname from hosts.hosts order by ip_address, hostname`).map(
    (r) => r.hostname,
  );

describe('hosts import', () => {
  beforeAll(async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
  });

  it('imports the real hosts file (exit 0, the summary on stdout); strict refuses the repeat with exit 3 and a JSON summary', async () => {
    const r = await cli(['hosts', 'import', FIXTURE], {}, runCli);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('processed 1567, created 1567, updated 0, skipped 0, failed 0');
    const strict = await cli(['hosts', 'import', FIXTURE, '--mode', 'strict', '--json'], {}, runCli);
    expect(strict.code).toBe(3);
    expect(JSON.parse(strict.stdout) as Summary).toMatchObject({ failed: 1567, written: false });
    expect((await db.sql`select count(*)::int as n from hosts.hosts`)[0]!.n).toBe(1567);
  });

  it('reports every bad line with its number and field on stderr, exits 2, imports the good ones', async () => {
    await db.sql`truncate hosts.host_events, hosts.streams, hosts.hosts`;
    const file = join(dir, 'bad.hosts');
    writeFileSync(
      file,
      [
        '# a comment',
        '',
        '10.0.0.1\tgood.lan',
        '10.0.0.300\tbad-ip.lan',
        '10.0.0.2\tbad_name.lan',
        '10.0.0.3',
        '10.0.0.4\tok.lan -alias-',
        '10.0.0.5\tfine.lan fine\t# kept [t1, t2]',
      ].join('\n'),
    );
    const r = await cli(['hosts', 'import', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: line 4: ip: ip '10.0.0.300' is not an IPv4 or IPv6 address");
    expect(r.stderr).toContain("error: line 5: hostname: hostname 'bad_name.lan'");
    expect(r.stderr).toContain('error: line 6: hostname: hostname is missing');
    expect(r.stderr).toContain("error: line 7: alias: alias '-alias-'");
    expect(r.stdout).toContain('processed 6, created 2, updated 0, skipped 0, failed 4');
    expect(await hostnames()).toEqual(['good.lan', 'fine.lan']);
  });

  it('reads standard input (-) with --format; a bad line is exit 2 with the JSON summary', async () => {
    const jsonl = '{"ipAddress":"10.2.0.1","hostname":"json.lan","tags":["j"]}\n{"ipAddress":"10.2.0.2"}\nnot json\n';
    const r = await cli(['hosts', 'import', '-', '--format', 'jsonl', '--json'], { input: jsonl });
    expect(r.code).toBe(2);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary).toMatchObject({ created: 1, failed: 2 });
    expect(summary.errors.map((e) => [e.line, e.field])).toEqual([
      [2, 'hostname'],
      [3, 'json'],
    ]);
    expect(await hostnames()).toContain('json.lan');
  });

  it('a missing file is a usage error', async () => {
    const r = await cli(['hosts', 'import', join(dir, 'nope.hosts')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no such file');
  });
});

describe('hosts export', () => {
  it('writes a file and says so; without --output the same text goes to stdout', async () => {
    const file = join(dir, 'out.hosts');
    const r = await cli(['hosts', 'export', '--output', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Wrote 3 entries to ${file}`);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.slice(2)).toEqual([
      '# Entry count: 3',
      '',
      '10.0.0.1\tgood.lan',
      '10.0.0.5\tfine.lan fine\t# kept [t1, t2]',
      '10.2.0.1\tjson.lan\t# [j]',
      '',
    ]);
    const stdout = await cli(['hosts', 'export']);
    expect(stdout.code).toBe(0);
    expect(stdout.stdout.split('\n').slice(2)).toEqual(lines.slice(2));
  });

  it('an --output in a missing folder is a usage error naming the folder, not a temporary file', async () => {
    const r = await cli(['hosts', 'export', '--output', join(dir, 'no-such-folder', 'x.hosts')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*x\.hosts: the folder .*no-such-folder does not exist/);
    expect(r.stderr).not.toMatch(/tmp-/);
  });
});
