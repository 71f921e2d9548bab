/**
 * The migration status of a freshly restored database: what it has applied, whether that is
 * what the backup recorded, and what is pending against the migration files (pgstore's set,
 * and the app's when its folder is here or named).
 */
import type { ServerConnection } from '../../db/config.js';
import { withAdminSql } from '../../db/pool.js';
import { setHistories } from '../migrate/index.js';

export interface RestoredMigrations {
  /** Whether the database has a migration history (either set). */
  tracked: boolean;
  applied: number;
  /** The newest applied migration of pgstore's set (what backup manifests record). */
  newest: string | null;
  /** The newest migration the backup's manifest recorded (null: none or no manifest). */
  backupNewest: string | null;
  /** Migration files not applied in the restored database (null when untracked or unreadable). */
  pending: number | null;
}

/** Reads the restored database's migration histories and compares them with the files. */
export async function restoredMigrationStatus(
  conn: ServerConnection,
  backupNewest: string | null,
  migrationsDir: string | undefined,
  env: Record<string, string | undefined> = {},
): Promise<RestoredMigrations> {
  const histories = await withAdminSql(
    conn,
    async (sql) => {
      try {
        return await setHistories(sql, conn, { env, migrationsDir });
      } catch {
        return null; // a broken folder: say what is applied, not what is pending
      }
    },
    conn.database,
  );
  if (!histories) return { tracked: false, applied: 0, newest: null, backupNewest, pending: null };
  const applied = histories.reduce((n, h) => n + h.applied.length, 0);
  const tracked = applied > 0;
  const newest = histories.find((h) => h.set.name === 'pgstore')?.applied.at(-1)?.version ?? null;
  return {
    tracked,
    applied,
    newest,
    backupNewest,
    pending: tracked ? histories.reduce((n, h) => n + h.pending, 0) : null,
  };
}
