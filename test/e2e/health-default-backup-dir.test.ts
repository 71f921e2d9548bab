/**
 * health's last_backup and the default backup folder: a folder found rather than named grades
 * only the databases it holds backups of; a named folder grades every database (none: critical).
 * Runs the CLI's entry in-process (the binary's contract for health is test/e2e/health.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, useTestDatabase } from '../helpers/db.js';
import { pgstoreInProcess } from './backup-helpers.js';

const home = mkdtempSync(join(tmpdir(), 'pgstore-health-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const backedUp = useTestDatabase();

const lastBackup = async (url: string, extra: Record<string, string> = {}) => {
  const r = await pgstoreInProcess(url, ['health', '--json'], { PGSTORE_HOME: home, ...extra });
  const checks = JSON.parse(r.stdout).checks as Array<{ name: string; status: string; message: string }>;
  return checks.find((c) => c.name === 'last_backup');
};

describe('last_backup with the default backup folder', () => {
  it('grades the database backed up there, and leaves out one that never was', async () => {
    const backup = await pgstoreInProcess(backedUp.url, ['backup', '--json'], { PGSTORE_HOME: home });
    expect(backup.code).toBe(0);
    expect(JSON.parse(backup.stdout).path).toContain(join(home, 'backups'));
    expect(await lastBackup(backedUp.url)).toMatchObject({ status: 'ok' });

    const other = await createTestDatabase();
    try {
      expect(await lastBackup(other.url)).toBeUndefined();
      // Named, the same folder grades it: no backup of it there is critical.
      expect(await lastBackup(other.url, { PGSTORE_BACKUP_DIR: join(home, 'backups') })).toMatchObject({
        status: 'critical',
        message: expect.stringContaining(`no complete backup of ${other.name}`),
      });
    } finally {
      await other.drop();
    }
  });
});
