/**
 * A few bad invocations through the built binary (bin/pgstore.js → main → run): the wrapper
 * exits with run's code, prints what run printed, and adds no warning of its own. The full
 * table runs in-process (bad-input.test.ts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawSql } from '../helpers/raw-sql.js';
import { isScratchOf } from '../../src/core/restore/scratch-names.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';

let database: TestDatabase & { drop(): Promise<void> };
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const FORTY = '1234567890123456789012345678901234567890';

function expectBadInput(result: { code: number | null; stdout: string; stderr: string }, code = 2): void {
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^error: .*\nhint: \S/);
  expect(result.stderr).not.toMatch(/This is a bug|unexpected error|Warning|\n\s+at /);
}

describe('bad input through the binary', () => {
  it('an explicitly empty --database-url or DATABASE_URL is exit 2, never the embedded server', async () => {
    // Falling through to the embedded server would create PGSTORE_HOME and start a server there
    // (on a free port, so that a failing run disturbs nothing else).
    const base = mkdtempSync(join(tmpdir(), 'pgstore-bi-home-'));
    const home = join(base, 'home');
    try {
      const env = (extra: Record<string, string>) => cleanEnv({ PGSTORE_HOME: home, PGSTORE_PORT: '1', ...extra });
      expectBadInput(await runCli(['-d', '', 'reset', '--yes'], { env: env({}) }));
      expectBadInput(await runCli(['health'], { env: env({ DATABASE_URL: '' }) }));
      expect(existsSync(home)).toBe(false);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('health --timeout with 40 digits: exit 2 and no TimeoutOverflowWarning', async () => {
    const result = await runCli(['health', '--timeout', FORTY], { env: cleanEnv({ DATABASE_URL: database.url }) });
    expectBadInput(result);
    expect(result.stderr).toMatch(/--timeout must be at most/);
  });

  it('restore --jobs with 40 digits: exit 2 before any scratch database is made', async () => {
    const backups = mkdtempSync(join(tmpdir(), 'pgstore-bi-bin-'));
    try {
      const env = cleanEnv({ DATABASE_URL: database.url, PGSTORE_BACKUP_DIR: backups });
      const taken = await runCli(['backup', '--quiet'], { env });
      expect(taken.code, taken.stderr).toBe(0);
      const before = await databases();
      expectBadInput(await runCli(['restore', '--jobs', FORTY, '--target-db', 'bi_bin_jobs', '--create'], { env }));
      expectBadInput(await runCli(['restore', '--target-db', 'template0', '--clean', '--yes'], { env }));
      expect(await databases()).toEqual(before);
    } finally {
      rmSync(backups, { recursive: true, force: true });
    }
  }, 60_000);

  it('migrate dump -o /tmp (a folder) is exit 2 with the path named', async () => {
    const result = await runCli(['migrate', 'dump', '-o', '/tmp'], { env: cleanEnv({ DATABASE_URL: database.url }) });
    expectBadInput(result);
    expect(result.stderr).toMatch(/cannot write \/tmp: it is a folder/);
  });

  it('a command group without its subcommand is a usage error', async () => {
    const result = await runCli(['hosts'], { env: cleanEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\nerror: a command is needed\nhint: /);
  });
});

const TARGETS = ['bi_bin_jobs', 'template0'];

async function databases(): Promise<string[]> {
  const sql = rawSql(database.url, { max: 1, onnotice: () => undefined });
  try {
    // Only what these restores could make: their targets and the scratch copies of those
    // (other test files create and drop databases of their own meanwhile, the scratch copies of
    // their own restores included).
    return (await sql<{ datname: string }[]>`select datname from pg_database order by 1`)
      .map((r) => r.datname)
      .filter((n) => TARGETS.some((target) => n === target || isScratchOf(n, target)));
  } finally {
    await sql.end({ timeout: 5 });
  }
}
