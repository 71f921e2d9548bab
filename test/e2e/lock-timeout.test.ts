/**
 * Every command but `migrate` waits a bounded time for a table lock (PGSTORE_LOCK_TIMEOUT,
 * default 60 s): a lock another session holds ends the command with exit 3, one line naming
 * the table and a hint naming the holder, instead of a cron job waiting forever. `0` waits as
 * before; a URL's own `options=-c lock_timeout=...` wins over the setting.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { pgstore, pgstoreInProcess, tempDir } from './backup-helpers.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
const dir = tempDir('lockwait');
const hostsFile = join(dir, 'hosts');
writeFileSync(hostsFile, '10.0.0.1 a.example\n10.0.0.2 b.example\n');

/** A session of its own holding `lock` (e.g. `lock table x in access exclusive mode`) until released. */
async function holdLock(statement: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const holder = await db.sql.reserve();
  await holder`begin`;
  await holder`set local application_name = 'long-alter'`;
  await holder.unsafe(statement);
  const [{ pid }] = (await holder`select pg_backend_pid() as pid`) as unknown as [{ pid: number }];
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await holder`rollback`.catch(() => undefined);
    holder.release();
  };
  afterAll(release);
  return { pid, release };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await fn();
  return { result, ms: Date.now() - started };
}

describe('PGSTORE_LOCK_TIMEOUT', () => {
  it('backup (the binary) ends with exit 3, the table and the holder, when pg_dump cannot lock a table', async () => {
    await db.sql`create table if not exists public.orders (id int primary key, total numeric)`;
    await db.sql`insert into public.orders values (1, 10) on conflict do nothing`;
    const held = await holdLock('lock table public.orders in access exclusive mode');
    try {
      const { result: r, ms } = await timed(() =>
        pgstore(db.url, ['backup', '--dir', dir], { PGSTORE_LOCK_TIMEOUT: '200ms' }, 30_000),
      );
      expect(r.signal, r.stderr).toBeNull();
      expect(r.code, r.stderr).toBe(3);
      expect(ms).toBeGreaterThanOrEqual(200); // waited its timeout, then gave up
      expect(ms).toBeLessThan(15_000);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^error: .*lock.*public\.orders.*200 ms/);
      expect(r.stderr).toMatch(new RegExp(`hint: .*process ${held.pid} \\(long-alter`));
      expect(r.stderr).toMatch(/PGSTORE_LOCK_TIMEOUT/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await held.release();
    }
  }, 60_000);

  it("backup's own row count timing out first (before pg_dump took its snapshot) is still exit 3 naming the table", async () => {
    // At 1 ms the count, in the transaction that exported the snapshot, gives up before pg_dump
    // starts; its failure aborted that transaction, so pg_dump then failed to import the snapshot
    // and that second-hand error (exit 1) was reported instead of the lock.
    await db.sql`create table if not exists public.orders (id int primary key, total numeric)`;
    const held = await holdLock('lock table public.orders in access exclusive mode');
    try {
      const r = await pgstoreInProcess(db.url, ['backup', '--dir', dir], { PGSTORE_LOCK_TIMEOUT: '1' });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr.trim().split('\n')[0]).toMatch(/^error: .*lock.*public\.orders/);
      expect(r.stderr).toMatch(new RegExp(`hint: .*process ${held.pid} \\(long-alter`));
      expect(r.stderr).not.toMatch(/snapshot/);
    } finally {
      await held.release();
    }
  });

  it('hosts import ends with exit 3 and the hint while hosts.hosts is locked', async () => {
    const held = await holdLock('lock table hosts.hosts in access exclusive mode');
    try {
      const { result: r, ms } = await timed(() =>
        Promise.race([
          pgstoreInProcess(db.url, ['hosts', 'import', hostsFile], { PGSTORE_LOCK_TIMEOUT: '200' }),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still waiting after 20 s')), 20_000)),
        ]),
      );
      expect(r.code, r.stderr).toBe(3);
      expect(ms).toBeGreaterThanOrEqual(200); // waited its timeout, then gave up
      expect(ms).toBeLessThan(10_000);
      expect(r.stderr).toMatch(/^error: .*lock.*hosts\.hosts.*200 ms/);
      expect(r.stderr).toMatch(new RegExp(`hint: .*process ${held.pid} \\(long-alter`));
      expect(r.stderr).toMatch(/PGSTORE_LOCK_TIMEOUT/);
    } finally {
      await held.release();
    }
  }, 60_000);

  it('0 in the environment (beating the project file) waits: the import completes once the holder is gone', async () => {
    const config = join(dir, 'pgstore.toml');
    writeFileSync(config, '[locks]\ntimeout = "200ms"\n');
    const held = await holdLock('lock table hosts.hosts in access exclusive mode');
    const running = pgstoreInProcess(db.url, ['hosts', 'import', hostsFile], {
      PGSTORE_CONFIG: config,
      PGSTORE_LOCK_TIMEOUT: '0',
    });
    // Seen waiting for the lock, then kept waiting well past the project file's 200 ms.
    const waiting = async () =>
      (
        await db.sql`select 1 from pg_stat_activity where pid <> ${held.pid} and wait_event_type = 'Lock'
          and datname = current_database()`
      ).length > 0;
    for (const until = Date.now() + 20_000; !(await waiting()) && Date.now() < until; )
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await waiting()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await waiting()).toBe(true);
    await held.release();
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(await db.sql`select count(*)::int as n from hosts.hosts`).toEqual([{ n: 2 }]);
    await db.sql`truncate hosts.hosts cascade`;
  }, 60_000);

  it("the project file's timeout applies when the environment has none", async () => {
    const config = join(dir, 'pgstore-200.toml');
    writeFileSync(config, '[locks]\ntimeout = 200\n');
    const held = await holdLock('lock table hosts.hosts in access exclusive mode');
    try {
      const r = await pgstoreInProcess(db.url, ['hosts', 'add', '--ip', '10.0.0.9', '--hostname', 'c.example'], {
        PGSTORE_CONFIG: config,
      });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(/200 ms/);
    } finally {
      await held.release();
    }
  }, 60_000);

  it("the URL's own lock_timeout wins over PGSTORE_LOCK_TIMEOUT", async () => {
    const held = await holdLock('lock table hosts.hosts in access exclusive mode');
    try {
      const url = `${db.url}${db.url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c lock_timeout=200')}`;
      const { result: r, ms } = await timed(() =>
        Promise.race([
          pgstoreInProcess(url, ['hosts', 'import', hostsFile], { PGSTORE_LOCK_TIMEOUT: '0' }),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still waiting after 20 s')), 20_000)),
        ]),
      );
      expect(r.code, r.stderr).toBe(3);
      expect(ms).toBeLessThan(10_000);
      expect(r.stderr).toMatch(/lock_timeout/);
    } finally {
      await held.release();
    }
  }, 60_000);

  it('a bad PGSTORE_LOCK_TIMEOUT is a usage error (exit 2) naming the variable', async () => {
    const r = await pgstoreInProcess(db.url, ['hosts', 'list'], { PGSTORE_LOCK_TIMEOUT: 'soon' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: PGSTORE_LOCK_TIMEOUT must be a duration/);
  });

  it("the library's connect() keeps the server's lock_timeout (an application chooses its own)", async () => {
    const lib = await connect({ databaseUrl: db.url, env: { PGSTORE_LOCK_TIMEOUT: '500ms' } });
    try {
      expect(await lib.sql`show lock_timeout`).toEqual([{ lock_timeout: '0' }]);
    } finally {
      await lib.close();
    }
  });
});
