/**
 * The migration status of a freshly restored database: what it has applied, whether that is
 * what the backup recorded, and what is pending against the migration files.
 */
import type { ServerConnection } from '../db/config.js';
import { withAdminSql } from '../db/pool.js';
import { appliedMigrations } from '../store/migration-log.js';
import { defaultMigrationsDir, readMigrations } from './migration-files.js';

export interface RestoredMigrations {
  /** Whether the database has dbmate's schema_migrations table. */
  tracked: boolean;
  applied: number;
  newest: string | null;
  /** The newest migration the backup's manifest recorded (null: none or no manifest). */
  backupNewest: string | null;
  /** Migration files not applied in the restored database (null when untracked or unreadable). */
  pending: number | null;
}

/** Reads the restored database's migration log and compares it with the files. */
export async function restoredMigrationStatus(conn: ServerConnection, backupNewest: string | null, migrationsDir: string | undefined): Promise<RestoredMigrations> {
  const applied = await withAdminSql(conn, (sql) => appliedMigrations(sql), conn.database);
  const tracked = applied.length > 0;
  let pending: number | null = null;
  if (tracked) {
    try {
      const done = new Set(applied.map((m) => m.version));
      pending = readMigrations(migrationsDir ?? defaultMigrationsDir()).filter((f) => !done.has(f.version)).length;
    } catch {
      pending = null;
    }
  }
  return { tracked, applied: applied.length, newest: applied.at(-1)?.version ?? null, backupNewest, pending };
}
