/**
 * The migration lock is released after the work, whatever happens; when the work fails, its
 * error is the one reported, even when the release fails too (the session died with the work:
 * a server restart, a terminated backend). Before, the unlock's "connection ended" replaced it.
 */
import { describe, expect, it } from 'vitest';
import { locked, openMigrationSession } from '../../src/core/migrate/session.js';
import { on } from '../helpers/core.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();

describe('the migration lock around failing work', () => {
  it("reports the work's error when the session died with it (the unlock fails too)", async () => {
    const options = on(db.url);
    const session = await openMigrationSession(options);
    try {
      const work = locked(session, options, async () => {
        // The session ends under the lock (the unlock then cannot run), and the work fails.
        await session.sql`select pg_terminate_backend(pg_backend_pid())`.catch(() => undefined);
        throw new Error('the migration failed');
      });
      await expect(work).rejects.toThrow('the migration failed');
    } finally {
      await session.sql.end({ timeout: 0 });
    }
  });

  it('releases the lock after failing work on a live session (another session can take it)', async () => {
    const options = on(db.url);
    const session = await openMigrationSession(options);
    try {
      await expect(
        locked(session, options, async () => {
          throw new Error('the migration failed');
        }),
      ).rejects.toThrow('the migration failed');
      const other = await openMigrationSession(options);
      try {
        expect(await locked(other, { ...options, lockTimeoutSeconds: 1 }, async () => 'taken')).toBe('taken');
      } finally {
        await other.sql.end({ timeout: 0 });
      }
    } finally {
      await session.sql.end({ timeout: 0 });
    }
  });
});
