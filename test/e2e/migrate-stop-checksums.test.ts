/**
 * A `migrate up` stopped while dbmate applies the application's set (a deploy's timeout,
 * Ctrl+C): the files dbmate applied before the stop keep their checksums. They are recorded
 * once dbmate is done, so the stop must write those it reported so far: nothing fills them in
 * later, and `status`/`verify` could never see those files edited.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv } from '../helpers/cli.js';
import { emptyDatabases } from '../helpers/db.js';

const emptyDatabase = emptyDatabases();
const dir = mkdtempSync(join(tmpdir(), 'pgstore-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('migrate up stopped', () => {
  it('SIGTERM while dbmate runs (--engine dbmate): every file recorded as applied has its checksum', async () => {
    const db = await emptyDatabase();
    writeFileSync(join(dir, '0001_a.sql'), '-- migrate:up\ncreate table a (x int);\n-- migrate:down\ndrop table a;\n');
    writeFileSync(join(dir, '0002_b.sql'), '-- migrate:up\ncreate table b (x int);\n-- migrate:down\ndrop table b;\n');
    writeFileSync(join(dir, '0003_slow.sql'), '-- migrate:up\nselect pg_sleep(20);\n-- migrate:down\n');
    const child = spawn(
      process.execPath,
      [BIN, 'migrate', 'up', '--set', 'app', '--migrations-dir', dir, '--no-lint', '--engine', 'dbmate'],
      {
        env: cleanEnv({ DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1' }),
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Stopped once dbmate is in the slow file (the two before it are committed).
    const until = Date.now() + 30_000;
    for (;;) {
      const slow = await db.sql`select 1 from pg_stat_activity
        where datname = current_database() and state = 'active' and query like '%pg_sleep(20)%' and pid <> pg_backend_pid()`;
      if (slow.length || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    const rows = await db.sql<{ version: string; sha256: string | null }[]>`
      select version, sha256 from public.schema_migrations order by version`;
    expect(rows.map((r) => r.version)).toEqual(['0001', '0002']);
    expect(rows.filter((r) => r.sha256 === null)).toEqual([]);
    await db.sql`select pg_cancel_backend(pid) from pg_stat_activity
      where datname = current_database() and query like '%pg_sleep(20)%' and pid <> pg_backend_pid()`;
  }, 60_000);

  it('SIGTERM while pgstore runs a long statement: the statement stops on the server too, its locks with it', async () => {
    const db = await emptyDatabase();
    const slowDir = mkdtempSync(join(tmpdir(), 'pgstore-stop-'));
    try {
      writeFileSync(join(slowDir, '0001_slow.sql'), '-- migrate:up\ncreate table s (x int);\nselect pg_sleep(30);\n');
      const child = spawn(
        process.execPath,
        [BIN, 'migrate', 'up', '--set', 'app', '--migrations-dir', slowDir, '--no-lint'],
        {
          env: cleanEnv({ DATABASE_URL: db.url, DBMATE_NO_DUMP_SCHEMA: '1' }),
          stdio: 'ignore',
        },
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const running = () =>
        db.sql`select 1 from pg_stat_activity
          where datname = current_database() and state = 'active' and query like '%pg_sleep(30)%' and pid <> pg_backend_pid()`;
      const until = Date.now() + 30_000;
      while ((await running()).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      // Gone within a few seconds (the server checks the client every second), not after 30 s.
      const gone = Date.now() + 5_000;
      while ((await running()).length > 0 && Date.now() < gone) await new Promise((r) => setTimeout(r, 50));
      expect(await running()).toHaveLength(0);
      expect(await db.sql`select 1 from pg_class where relname = 's'`).toHaveLength(0);
    } finally {
      rmSync(slowDir, { recursive: true, force: true });
    }
  }, 60_000);
});
