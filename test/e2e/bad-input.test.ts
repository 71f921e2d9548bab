/**
 * Bad input never reaches "This is a bug": every invocation in bad-input-cases.ts exits with
 * its documented code, prints one error line and a hint on stderr (no stack trace), and
 * changes nothing: the test database's rows, the databases and roles on the server, and the
 * files of the scratch folder are the same after the whole table as before it.
 * The cases run pgstore's entry in-process (test/helpers/cli-in-process.ts); bad-input-binary.test.ts runs
 * a few through the built binary.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { cleanEnv } from '../helpers/cli.js';
import { BAD_CASES, type BadCase } from './bad-input-cases.js';
import { runInProcess } from '../helpers/cli-in-process.js';

let database: TestDatabase & { drop(): Promise<void> };
let tmp: string;
const slots: Record<string, string> = {};
let before: string;
const started = Date.now();

function fill(text: string): string {
  return text.replace(/\{(\w+)\}/g, (whole, key: string) => slots[key] ?? whole);
}

function envFor(c: BadCase): Record<string, string | undefined> {
  const base = cleanEnv({
    PGSTORE_HOME: join(tmp, 'home'),
    PGSTORE_BACKUP_DIR: join(tmp, 'backups'),
    DATABASE_URL: c.needs === 'db' ? slots.db : 'postgres://nobody@127.0.0.1:1/none',
  });
  for (const [key, value] of Object.entries(c.env ?? {})) {
    if (value === undefined) delete base[key];
    else base[key] = fill(value);
  }
  return base;
}

/** Rows of every table of the test database, the databases and roles the suite could create, the scratch files. */
async function fingerprint(): Promise<string> {
  const sql = database.sql;
  const tables = await sql<{ name: string }[]>`
    select format('%I.%I', schemaname, tablename) as name from pg_tables
     where schemaname not in ('pg_catalog', 'information_schema') order by 1`;
  const parts: string[] = [];
  for (const { name } of tables) {
    const [row] = await sql.unsafe<{ n: string; sum: string | null }[]>(
      `select count(*)::text as n, md5(string_agg(t::text, '|' order by t::text)) as sum from ${name} t`,
    );
    parts.push(`${name} ${row!.n} ${row!.sum}`);
  }
  const dbs = await sql<
    { datname: string }[]
  >`select datname from pg_database where datname like 'bi\\_%' or datname like ${`${database.name}%`} order by 1`;
  const roles = await sql<
    { rolname: string }[]
  >`select rolname from pg_roles where rolname like 'bi\\_%' or rolname like ${`${database.name}%`} order by 1`;
  parts.push(`databases ${dbs.map((d) => d.datname).join(',')}`, `roles ${roles.map((r) => r.rolname).join(',')}`);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const path = join(dir, e.name);
      return e.isDirectory() ? [`${path}/`, ...walk(path)] : [`${path} ${statSync(path).size}`];
    });
  parts.push(...walk(tmp));
  return parts.join('\n');
}

beforeAll(async () => {
  database = await createTestDatabase();
  tmp = mkdtempSync(join(tmpdir(), 'pgstore-bad-input-'));
  const file = join(tmp, 'a-file.txt');
  writeFileSync(file, 'not a folder\n');
  mkdirSync(join(tmp, 'empty-dir'));
  mkdirSync(join(tmp, 'not-a-backup'));
  writeFileSync(join(tmp, 'not-a-backup', 'readme.txt'), 'hello\n');
  Object.assign(slots, {
    db: database.url,
    // The same server and login, a database that does not exist.
    missingDb: Object.assign(new URL(database.url), { pathname: `/${database.name}_missing` }).toString(),
    tmp,
    file,
    dir: join(tmp, 'empty-dir'),
    notbackup: join(tmp, 'not-a-backup'),
  });
  const env = envFor({ args: [], code: 0, needs: 'db' });
  const added = await runInProcess(
    ['--json', 'hosts', 'add', '--ip', '10.77.0.1', '--hostname', 'bad-input.example'],
    env,
  );
  expect(added.code, added.stderr).toBe(0);
  slots.hostId = (JSON.parse(added.stdout) as { id: string }).id;
  const backup = await runInProcess(['--json', 'backup'], env);
  expect(backup.code, backup.stderr).toBe(0);
  slots.backupId = (JSON.parse(backup.stdout) as { id: string }).id;
  before = await fingerprint();
}, 120_000);

afterAll(async () => {
  await database?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Nothing here may reach a server (and none may start the embedded one): a closed port. */
const NO_SERVER = { DATABASE_URL: 'postgres://nobody:pw@127.0.0.1:1/none' };

describe('usage hints name the command that refused the input', () => {
  it.each([
    [
      ['backup', 'list', '--keep-last', '1'],
      /^hint: --keep-last is an option of `pgstore backup`, `pgstore backup prune`.*`pgstore backup list --help`/m,
    ],
    [['hosts', 'list', '--limt', '3'], /^hint: See `pgstore hosts list --help`\.$/m],
    [['--limit', '3', 'hosts', 'list'], /^hint: --limit is an option of `pgstore hosts list`/m],
    [['--bogus'], /^hint: See `pgstore --help`\.$/m],
  ])('pgstore %j', async (args, hint) => {
    const result = await runInProcess(args, NO_SERVER);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(hint);
    const json = await runInProcess([...args, '--json'], NO_SERVER);
    expect(JSON.parse(json.stderr).error.hint).toMatch(new RegExp(hint.source.replace('^hint: ', '^')));
  });
});

describe('--json beside another output --format', () => {
  it.each([
    [['hosts', 'list', '--format', 'csv', '--json']],
    [['backup', 'list', '--format', 'ndjson', '--json']],
    [['health', '--format', 'nagios', '--json']],
    [['--json', 'snapshot', 'list', '--format', 'ndjson']],
  ])('pgstore %j is refused: two outputs', async (args) => {
    const result = await runInProcess(args, NO_SERVER);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr).error).toMatchObject({
      code: 'PGSTORE_USAGE',
      message: expect.stringMatching(/^--json and --format \w+ ask for two different outputs$/),
    });
    expect(result.stdout).toBe('');
  });

  it('--format json with --json, and backup --format (pg_dump) with --json, are fine', async () => {
    const hosts = await runInProcess(['hosts', 'list', '--format', 'json', '--json', '--limit', '1'], NO_SERVER);
    expect(hosts.stderr).not.toMatch(/two different outputs/);
    const backup = await runInProcess(
      ['backup', '--format', 'plain', '--json', '--dir', '/nonexistent/x/y'],
      NO_SERVER,
    );
    expect(backup.stderr).not.toMatch(/two different outputs/);
  });
});

describe(`bad input (${BAD_CASES.length} cases, in-process)`, () => {
  it('has at least 300 cases', () => {
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(300);
  });

  it.each(
    BAD_CASES.map(
      (c) =>
        [c.args.map((a) => JSON.stringify(a)).join(' ') + (c.env ? ` with ${JSON.stringify(c.env)}` : ''), c] as const,
    ),
  )('pgstore %s', async (_name, c) => {
    const result = await runInProcess(c.args.map(fill), envFor(c));
    const said = `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
    expect(result.stderr, said).not.toMatch(/This is a bug|unexpected error/);
    expect(result.stderr, said).not.toMatch(/\n\s+at .*:\d+/);
    expect(result.code, said).toBe(c.code);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors, said).toHaveLength(1);
    expect(result.stderr.slice(result.stderr.indexOf('error:')), said).toMatch(/\nhint: \S/);
    if (c.error) expect(errors[0], said).toMatch(c.error);
    if (c.hint) expect(result.stderr.match(/^hint: (.*)$/m)?.[1], said).toMatch(c.hint);
    expect(result.stdout, said).toBe('');
  });

  // The same failures with --json: one JSON object on stderr with a stable code (every 4th case).
  const jsonCases = BAD_CASES.filter((_c, i) => i % 4 === 0);
  it.each(jsonCases.map((c) => [c.args.map((a) => JSON.stringify(a)).join(' '), c] as const))(
    'pgstore --json %s',
    async (_name, c) => {
      const result = await runInProcess(['--json', ...c.args.map(fill)], envFor(c));
      const said = `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
      expect(result.code, said).toBe(c.code);
      expect(result.stdout, said).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines, said).toHaveLength(1);
      const { error } = JSON.parse(lines[0]!) as {
        error: { code: string; message: string; hint: string | null; exitCode: number };
      };
      expect(error.code, said).toMatch(/^PGSTORE_[A-Z_]+$/);
      expect(error.code, said).not.toBe('PGSTORE_INTERNAL');
      expect(error.exitCode, said).toBe(c.code);
      expect(error.message.length, said).toBeGreaterThan(0);
      expect(error.hint, said).toMatch(c.hint ?? /\S/);
    },
  );

  it('changed no data: rows, databases, roles and files are as before', async () => {
    expect(await fingerprint()).toBe(before);
    // eslint-disable-next-line no-console
    console.log(`bad-input: ${BAD_CASES.length} cases in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
