/**
 * The JSON contract (docs/json.md): every command and subcommand run with --json on a seeded
 * database prints one JSON document on stdout that validates against its schema in
 * docs/json-schema and keeps the naming rule; failures print one error object on stderr that
 * validates against error.json. The cases run the CLI's entry in-process
 * (test/helpers/cli-in-process.ts); two run the built binary. The last test checks that every
 * command of the registry was run here.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, testServerEnv, type CliResult } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { createTestDatabase, useTestDatabase } from '../helpers/db.js';
import {
  namingProblems,
  registeredCommands,
  runnablePaths,
  schemaNameOf,
  schemaProblems,
} from '../helpers/json-contract.js';

const db = useTestDatabase();
const tmp = mkdtempSync(join(tmpdir(), 'pgstore-json-'));
const migrations = join(tmp, 'migrations');
const backups = join(tmp, 'backups');
const env = () =>
  cleanEnv({
    DATABASE_URL: db.url,
    PGSTORE_BACKUP_DIR: backups,
    DBMATE_NO_DUMP_SCHEMA: '1',
    PGSTORE_ADMIN_PASSWORD: 'correct horse battery staple',
  });
/** Data keyed by name, not fields (exempt from the naming rule). */
const MAPS = ['/rows'];
const ran = new Set<string>();

interface Case {
  /** The command path (`hosts list`): its schema is docs/json-schema/hosts-list.json. */
  path: string;
  args: string[];
  code?: number | number[];
  env?: Record<string, string>;
  input?: string;
  binary?: boolean;
}

/** Runs the case with --json; its stdout must validate against the path's schema. */
async function json<T = Record<string, unknown>>(c: Case): Promise<T> {
  const run = c.binary ? runCli : runCliInProcess;
  const r: CliResult = await run([...c.args, '--json'], { env: c.env ?? env(), input: c.input, timeoutMs: 120_000 });
  const codes = Array.isArray(c.code) ? c.code : [c.code ?? 0];
  expect(codes, `pgstore ${c.args.join(' ')} --json exited ${r.code}: ${r.stderr}`).toContain(r.code);
  let value: unknown;
  expect(
    () => (value = JSON.parse(r.stdout)),
    `stdout of pgstore ${c.args.join(' ')} --json is JSON:\n${r.stdout.slice(0, 300)}`,
  ).not.toThrow();
  expect(
    schemaProblems(schemaNameOf(c.path), value),
    `pgstore ${c.args.join(' ')} --json against ${schemaNameOf(c.path)}.json`,
  ).toEqual([]);
  expect(namingProblems(value, MAPS), `naming rule in pgstore ${c.args.join(' ')} --json`).toEqual([]);
  ran.add(c.path);
  return value as T;
}

/** Runs a failing command with --json: nothing on stdout, one error object on stderr. */
async function jsonError(
  args: string[],
  code: string,
  exitCode: number,
  options: { env?: Record<string, string> } = {},
): Promise<void> {
  const r = await runCliInProcess([...args, '--json'], { env: options.env ?? env() });
  expect(r.code, r.stderr).toBe(exitCode);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  const error = JSON.parse(lines[0]!);
  expect(schemaProblems('error', error)).toEqual([]);
  expect(error.error).toMatchObject({ code, exitCode });
}

const migration = (name: string, up: string, down: string) =>
  writeFileSync(join(migrations, name), `-- migrate:up\n${up}\n-- migrate:down\n${down}\n`);

beforeAll(() => {
  mkdirSync(migrations);
  mkdirSync(backups);
  migration(
    '20200101000000_widgets.sql',
    'create table widgets (id bigint primary key, name text);',
    'drop table widgets;',
  );
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('--json of every command validates against docs/json-schema', () => {
  it('setup, migrate', async () => {
    await json({ path: 'setup', args: ['setup', '--migrations-dir', migrations] });
    await json({ path: 'setup', args: ['setup', '--print-citus-plan'] });
    const created = await json<{ path: string }>({
      path: 'migrate new',
      args: ['migrate', 'new', 'add_size', '--migrations-dir', migrations],
    });
    writeFileSync(
      created.path,
      '-- migrate:up\nalter table widgets add column size bigint;\n-- migrate:down\nalter table widgets drop column size;\n',
    );
    const dir = ['--migrations-dir', migrations];
    await json({ path: 'migrate status', args: ['migrate', 'status', ...dir] });
    await json({ path: 'migrate lint', args: ['migrate', 'lint', ...dir] });
    await json({ path: 'migrate plan', args: ['migrate', 'plan', ...dir] });
    await json({ path: 'migrate up', args: ['migrate', 'up', ...dir] });
    await json({ path: 'migrate verify', args: ['migrate', 'verify', ...dir] });
    await json({ path: 'migrate diff', args: ['migrate', 'diff', ...dir] });
    await json({ path: 'migrate dump', args: ['migrate', 'dump', '-o', join(tmp, 'schema.sql')] });
    const down = await json<{ rolledBack: unknown[] }>({
      path: 'migrate down',
      args: ['migrate', 'down', '--yes', ...dir],
    });
    expect(down.rolledBack).toHaveLength(1);
  });

  it('seed: the data set, a file, synthetic data', async () => {
    await json({ path: 'seed', args: ['seed'] });
    writeFileSync(join(tmp, 'seed.sql'), 'select 1;');
    await json({ path: 'seed', args: ['seed', '--file', join(tmp, 'seed.sql')] });
    await json({
      path: 'seed',
      args: ['seed', '--synthetic', '--users', '5', '--tenants', '1', '--hosts', '5', '--events-per-host', '2'],
    });
  });

  it('hosts and snapshot', async () => {
    const added = await json<{ id: string }>({
      path: 'hosts add',
      args: ['hosts', 'add', '--ip', '10.20.0.1', '--hostname', 'json.lan', '--alias', 'j.lan', '--tag', 't'],
    });
    await json({ path: 'hosts list', args: ['hosts', 'list', '--limit', '3'] });
    await json({ path: 'hosts list', args: ['hosts', 'list', '--tag', 't'], binary: true });
    await json({ path: 'hosts show', args: ['hosts', 'show', added.id] });
    const snap = await json<{ snapshot: { id: string } }>({
      path: 'snapshot create',
      args: ['snapshot', 'create', '--name', 'before'],
    });
    await json({
      path: 'hosts update',
      args: [
        'hosts',
        'update',
        added.id,
        '--comment',
        'changed',
        '--ip',
        '10.20.0.2',
        '--hostname',
        'json2.lan',
        '--tag',
        'u',
        '--alias',
        'k.lan',
      ],
    });
    await json({ path: 'hosts history', args: ['hosts', 'history', added.id] });
    await json({
      path: 'hosts import',
      args: ['hosts', 'import', '-', '--format', 'hosts'],
      input: '10.20.9.9 imported.lan\nnot-an-ip bad.lan\n',
      code: 2,
    });
    await json({ path: 'hosts export', args: ['hosts', 'export'] });
    await json({ path: 'hosts export', args: ['hosts', 'export', '-o', join(tmp, 'hosts.txt')] });
    await json({ path: 'snapshot list', args: ['snapshot', 'list', '--limit', '2'] });
    await json({ path: 'snapshot show', args: ['snapshot', 'show', snap.snapshot.id] });
    await json({ path: 'hosts rm', args: ['hosts', 'rm', added.id, '--reason', 'test'] });
    const later = await json<{ snapshot: { id: string } }>({ path: 'snapshot create', args: ['snapshot', 'create'] });
    await json({ path: 'snapshot diff', args: ['snapshot', 'diff', snap.snapshot.id] });
    await json({ path: 'snapshot diff', args: ['snapshot', 'diff', snap.snapshot.id, later.snapshot.id] });
    const rolled = await json<{ preRollbackSnapshotId: string }>({
      path: 'snapshot rollback',
      args: ['snapshot', 'rollback', snap.snapshot.id, '--yes'],
    });
    await json({ path: 'snapshot delete', args: ['snapshot', 'delete', rolled.preRollbackSnapshotId] });
    await json({ path: 'snapshot prune', args: ['snapshot', 'prune'] });
  });

  it('backup, restore', async () => {
    const taken = await json<{ id: string; path: string; database: string }>({
      path: 'backup',
      args: ['backup', '--verify', '--keep-last', '5'],
    });
    // A damaged backup beside it (unreadable manifest): listed and reported as such.
    const damaged = join(backups, taken.database, '20000101T000000.000Z');
    cpSync(taken.path, damaged, { recursive: true });
    writeFileSync(join(damaged, 'manifest.json'), '{');
    const listed = await json<Array<{ status: string }>>({
      path: 'backup list',
      args: ['backup', 'list'],
      binary: true,
    });
    expect(listed.map((b) => b.status)).toEqual(['ok', 'damaged']);
    await json({ path: 'backup verify', args: ['backup', 'verify', 'latest'] });
    await json({ path: 'backup prune', args: ['backup', 'prune', '--keep-last', '5', '--dry-run'] });
    const copy = `${db.name}_restored`;
    try {
      await json({ path: 'restore', args: ['restore', 'latest', '--target-db', copy, '--create'] });
    } finally {
      await db.sql.unsafe(`drop database if exists ${copy} with (force)`);
    }
    await json({ path: 'backup delete', args: ['backup', 'delete', taken.id, '--yes'] });
    expect(readdirSync(join(backups, taken.database))).toContain('20000101T000000.000Z');
  });

  it('health, server, config, completion, reset', async () => {
    await json({ path: 'health', args: ['health'], code: [0, 1] });
    const server = testServerEnv();
    await json({ path: 'server status', args: ['server', 'status'], env: server });
    await json({ path: 'server url', args: ['server', 'url'], env: server });
    await json({ path: 'server start', args: ['server', 'start'], env: server }); // already running: says so
    await json({
      path: 'server stop',
      args: ['server', 'stop'],
      env: cleanEnv({ PGSTORE_HOME: join(tmp, 'no-server'), PGSTORE_PORT: '1' }),
    });
    await json({ path: 'config', args: ['config'] });
    await json({ path: 'completion', args: ['completion', 'bash'] });
    await json({ path: 'completion', args: ['completion', 'ids'] });
    const other = await createTestDatabase();
    try {
      await json({
        path: 'reset',
        args: ['reset', '--schemas-only', '--yes', '--force'],
        env: cleanEnv({ DATABASE_URL: other.url }),
      });
    } finally {
      await other.drop();
    }
  });

  it('errors are one object on stderr with a stable code', async () => {
    await jsonError(['hosts', 'show', '01ZZZZZZZZZZZZZZZZZZZZZZZZ'], 'PGSTORE_NOT_FOUND', 2);
    await jsonError(['hosts', 'lst'], 'PGSTORE_USAGE', 2);
    await jsonError(['hosts', 'list', '--limit', 'many'], 'PGSTORE_USAGE', 2);
    await jsonError(['hosts', 'export', '--format', 'csv'], 'PGSTORE_USAGE', 2);
    await jsonError(['snapshot', 'rollback', '01ZZZZZZZZZZZZZZZZZZZZZZZZ', '--yes'], 'PGSTORE_NOT_FOUND', 2);
    await jsonError(['health'], 'PGSTORE_CONFIG', 2, {
      env: cleanEnv({ DATABASE_URL: 'postgres://u@127.0.0.1:99999/x' }),
    });
    await jsonError([], 'PGSTORE_USAGE', 2);
  });

  it('ran every command of the registry', async () => {
    const paths = runnablePaths(await registeredCommands());
    expect(
      paths.filter((p) => !ran.has(p)),
      'commands this file never ran with --json',
    ).toEqual([]);
  });
});
