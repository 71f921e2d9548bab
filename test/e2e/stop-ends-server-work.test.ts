/**
 * A stopped pgstore stops its server-side work too: the import's session asks the server to
 * check that its client is still there (client_connection_check_interval), so after a SIGTERM
 * its backend ends within about a second, even while it waits for a lock another session holds
 * (before, it went on waiting, holding its place in the lock queue, until that lock was freed).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv } from '../helpers/cli.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
const dir = mkdtempSync(join(tmpdir(), 'pgstore-stop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SIGTERM during hosts import', () => {
  it("ends the import's backend too, while it waits for a lock", async () => {
    const file = join(dir, 'hosts');
    writeFileSync(file, '10.0.0.1 a.example\n10.0.0.2 b.example\n');
    const holder = await db.sql.reserve();
    try {
      await holder`begin`;
      await holder`lock table hosts.hosts in access exclusive mode`;
      const child = spawn(process.execPath, [BIN, 'hosts', 'import', file], {
        env: cleanEnv({ DATABASE_URL: db.url }),
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const pid = await until('the import to wait for the lock', async () => {
        const [row] = await db.sql<{ pid: number }[]>`
          select pid from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
        return row?.pid;
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      // The lock is still held: only the client check can end the waiting backend.
      await until(
        'the waiting backend to end',
        async () => {
          const [row] = await db.sql`select 1 from pg_stat_activity where pid = ${pid}`;
          return row ? undefined : true;
        },
        5_000,
      );
    } finally {
      await holder`rollback`.catch(() => undefined);
      holder.release();
    }
    expect(await db.sql`select count(*)::int as n from hosts.hosts`).toEqual([{ n: 0 }]);
  });
});
