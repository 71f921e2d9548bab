/**
 * `migrate up --progress json` (and `setup`, which migrates): NDJSON events on stderr, one when
 * the pending count is known (done 0) and one per migration applied, with its set and file;
 * stdout exactly as without it. The first run goes through the built binary (the NDJSON on a
 * real stderr pipe); the others through the CLI's entry in-process (test/helpers/cli-in-process.ts).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { adminUrlFor, emptyDatabases } from '../helpers/db.js';
import { MIGRATION_COUNT } from '../helpers/migrations.js';

const root = mkdtempSync(join(tmpdir(), 'pgstore-mig-progress-'));
const emptyDatabase = emptyDatabases();
const setupName = `s_${randomBytes(5).toString('hex')}`;

afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  const sql = rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });
  await sql.unsafe(`drop database if exists ${setupName} with (force)`);
  for (const role of [`${setupName}_owner`, `${setupName}_app`]) await sql.unsafe(`drop role if exists ${role}`);
  await sql.end();
});

const APP_FILES = ['20240101000000_items.sql', '20240102000000_tags.sql', '20240103000000_item_tags.sql'];
const migrations = join(root, 'migrations');
mkdirSync(migrations);
const file = (up: string, down: string) => `-- migrate:up\n${up}\n\n-- migrate:down\n${down}\n`;
writeFileSync(join(migrations, APP_FILES[0]!), file('create table items (id int primary key);', 'drop table items;'));
writeFileSync(join(migrations, APP_FILES[1]!), file('create table tags (id int primary key);', 'drop table tags;'));
writeFileSync(
  join(migrations, APP_FILES[2]!),
  file('create table item_tags (item int references items, tag int references tags);', 'drop table item_tags;'),
);

interface ProgressEvent {
  phase: string;
  done: number;
  total: number;
  rate: number;
  unit: string;
  set?: string;
  filename?: string;
}

/** Every stderr line as JSON (a line that is not JSON fails the test). */
const events = (stderr: string): ProgressEvent[] =>
  stderr
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ProgressEvent);

const up = (url: string, args: string[], run = runCliInProcess) =>
  run(['migrate', 'up', '--no-dump-schema', '--no-lint', '--migrations-dir', migrations, ...args], {
    env: cleanEnv({ DATABASE_URL: url }),
  });

/** Durations differ from run to run. */
const timeless = (text: string) =>
  text.replace(/in \d+\.\d+ s/g, 'in N s').replace(/"durationMs":\d+/g, '"durationMs":N');

describe('migrate up --progress json', () => {
  it('writes one event when the count is known and one per migration applied, each set in turn; stdout unchanged', async () => {
    const [a, b] = [await emptyDatabase(), await emptyDatabase()];
    const withProgress = await up(a.url, ['--progress', 'json'], runCli);
    expect(withProgress.code, withProgress.stderr).toBe(0);
    const total = MIGRATION_COUNT + APP_FILES.length;
    const seen = events(withProgress.stderr);
    expect(seen[0]).toEqual({ phase: 'migrating', done: 0, total, rate: 0, unit: 'migrations' });
    const steps = seen.slice(1);
    expect(steps.map((e) => e.done)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const e of steps) {
      expect(e).toMatchObject({ phase: 'migrating', total, unit: 'migrations' });
      expect(e.rate).toBeGreaterThanOrEqual(0);
    }
    expect(steps.map((e) => e.set)).toEqual([
      ...Array<string>(MIGRATION_COUNT).fill('pgstore'),
      ...Array<string>(APP_FILES.length).fill('app'),
    ]);
    expect(steps.slice(MIGRATION_COUNT).map((e) => e.filename)).toEqual(APP_FILES);

    // The same run without --progress prints the same on stdout and nothing on stderr.
    const without = await up(b.url, []);
    expect(without.code, without.stderr).toBe(0);
    expect(without.stderr).toBe('');
    expect(timeless(withProgress.stdout)).toBe(timeless(without.stdout).replaceAll(b.name, a.name));

    // Nothing pending: the one event says so; --json's document is still alone on stdout.
    const again = await up(a.url, ['--progress', 'json', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(events(again.stderr)).toEqual([{ phase: 'migrating', done: 0, total: 0, rate: 0, unit: 'migrations' }]);
    expect(JSON.parse(again.stdout)).toMatchObject({ applied: [] });
  });

  it('setup reports the migrations it applies the same way', async () => {
    const result = await runCliInProcess(
      ['setup', '--env', 'test', '--progress', 'json', '--migrations-dir', migrations],
      {
        env: cleanEnv({ DATABASE_URL: adminUrlFor(setupName), PGSTORE_APP_PASSWORD: 'progress-test-password' }),
      },
    );
    expect(result.code, result.stderr).toBe(0);
    const seen = events(result.stderr.replace(/^[^{].*$/gm, '')); // setup's own notes are text
    const total = MIGRATION_COUNT + APP_FILES.length;
    expect(seen.map((e) => e.done)).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    expect(seen.at(-1)).toMatchObject({ set: 'app', filename: APP_FILES.at(-1), total });
  });
});
