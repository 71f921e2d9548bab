/**
 * What depends on the server's major version. In `npm test` the server is the embedded 15;
 * scripts/version-matrix.js runs this file (and the version suite) on 14 to 18, with
 * PGSTORE_TEST_PG_MAJOR naming the major it started.
 *
 * pg_dump refuses to dump a server newer than itself, so backup checks the client against the
 * server before it creates anything, and says which client to install. The first refusal runs
 * the built binary; the other cases the CLI's entry in-process (test/helpers/cli-in-process.ts).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.js';
import { pgstore as pgstoreBinary, pgstoreInProcess as pgstore, tempDir } from './backup-helpers.js';

const db = useTestDatabase();
const base = tempDir('versions');

async function serverMajor(): Promise<number> {
  const [row] = await db.sql<{ v: string }[]>`select current_setting('server_version_num') as v`;
  return Math.floor(Number(row!.v) / 10000);
}

/** A `tool` that reports version `major` and records any other call in `calls`. */
function fakeClient(major: number, tool = 'pg_dump'): { bin: string; calls: string } {
  const bin = join(base, `fake-${tool}-${major}`);
  mkdirSync(bin, { recursive: true });
  const calls = join(bin, 'calls');
  writeFileSync(calls, '');
  writeFileSync(
    join(bin, tool),
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "${tool} (PostgreSQL) ${major}.3"; exit 0; fi\necho "$@" >> '${calls}'\nexit 1\n`,
  );
  chmodSync(join(bin, tool), 0o755);
  return { bin, calls };
}

/** The majors of the pg_dump programs installed where pgstore looks (PATH, /usr/lib/postgresql). */
function installedPgDumpMajors(): number[] {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  if (existsSync('/usr/lib/postgresql'))
    dirs.push(...readdirSync('/usr/lib/postgresql').map((m) => join('/usr/lib/postgresql', m, 'bin')));
  return dirs
    .map((d) => join(d, 'pg_dump'))
    .filter((p) => existsSync(p))
    .map((p) => Number(/\) (\d+)/.exec(spawnSync(p, ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? 0));
}

function expectRefusal(r: { code: number | null; stderr: string }, major: number, dir: string): void {
  expect(r.code, r.stderr).toBe(2);
  // With --json the error is one JSON object on stderr: the same message and hint.
  const json = r.stderr.startsWith('{')
    ? (JSON.parse(r.stderr) as { error: { message: string; hint: string } }).error
    : undefined;
  const lines = json ? [`error: ${json.message}`, `hint: ${json.hint}`] : r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(2);
  expect(lines[0]).toMatch(
    new RegExp(`^error: pg_dump ${major} or newer is needed for a PostgreSQL ${major} server; found .*pg_dump \\(\\d+`),
  );
  expect(lines[1]).toMatch(
    new RegExp(`^hint: Install the PostgreSQL ${major} client .*postgresql-client-${major}.*PGSTORE_PG_BIN`),
  );
  // Nothing was created: no backup folder, no lock, no partial dump.
  expect(existsSync(dir)).toBe(false);
}

describe('the server version', () => {
  it('is the major the version matrix started (15, the embedded default, otherwise)', async () => {
    expect(await serverMajor()).toBe(Number(process.env.PGSTORE_TEST_PG_MAJOR || 15));
  });
});

describe('pgstore backup and the version of pg_dump', () => {
  it('refuses a pg_dump older than the server before creating anything: exit 2, the versions and the fix', async () => {
    const major = await serverMajor();
    const fake = fakeClient(major - 1);
    const dir = join(base, 'refused');
    const metrics = join(base, 'refused.prom');
    const r = await pgstoreBinary(db.url, ['backup', '--dir', dir, '--metrics-file', metrics], {
      PGSTORE_PG_BIN: fake.bin,
    });
    expectRefusal(r, major, dir);
    expect(r.stderr).toContain(`${fake.bin}/pg_dump (${major - 1}.3) in PGSTORE_PG_BIN`);
    expect(readFileSync(fake.calls, 'utf8')).toBe('');
    // A monitor still sees the failure.
    expect(readFileSync(metrics, 'utf8')).toMatch(/^pgstore_backup_success\{[^}]*\} 0$/m);
  });

  it('uses an installed client that matches the server, else refuses the same way', async () => {
    const major = await serverMajor();
    const dir = join(base, 'installed');
    const r = await pgstore(db.url, ['backup', '--dir', dir, '--json'], { PGSTORE_PG_BIN: undefined });
    if (installedPgDumpMajors().some((m) => m >= major)) {
      expect(r.code, r.stderr).toBe(0);
      const manifest = JSON.parse(r.stdout).manifest as { pgDumpVersion: string; serverVersion: string };
      expect(Number(manifest.pgDumpVersion.split('.')[0])).toBeGreaterThanOrEqual(major);
      expect(manifest.serverVersion).toMatch(new RegExp(`^${major}\\.`));
    } else {
      expectRefusal(r, major, dir);
    }
  });
});

describe('pgstore restore and the version of pg_restore', () => {
  it('refuses a pg_restore older than the server, leaving no database behind: exit 2', async (ctx) => {
    const major = await serverMajor();
    const dir = join(base, 'to-restore');
    const taken = await pgstore(db.url, ['backup', '--dir', dir, '--json'], { PGSTORE_PG_BIN: undefined });
    // A backup needs a matching pg_dump (on the matrix's 16 to 18 there is none here).
    if (taken.code === 2) return ctx.skip();
    expect(taken.code, taken.stderr).toBe(0);
    const backup = JSON.parse(taken.stdout) as { path: string; manifest: { pgDumpVersion: string } };
    // On 14 the archive comes from pg_dump 15: that is what pg_restore must match then.
    const archiveMajor = Number(backup.manifest.pgDumpVersion.split('.')[0]);
    const needed = Math.max(major, archiveMajor);
    const why = archiveMajor > major ? `an archive written by pg_dump ${archiveMajor}` : `a PostgreSQL ${major} server`;
    const fake = fakeClient(needed - 1, 'pg_restore');
    const target = `${db.name}_r`;
    const r = await pgstore(db.url, ['restore', backup.path, '--target-db', target, '--create'], {
      PGSTORE_PG_BIN: fake.bin,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^error: pg_restore ${needed} or newer is needed for ${why}; found .*pg_restore \\(${needed - 1}\\.3\\) in PGSTORE_PG_BIN\nhint: Install the PostgreSQL ${needed} client`,
      ),
    );
    expect(readFileSync(fake.calls, 'utf8')).toBe('');
    const databases = await db.sql<
      { datname: string }[]
    >`select datname from pg_database where datname like ${`${target}%`}`;
    expect(databases).toEqual([]);
  });
});
