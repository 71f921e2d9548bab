/**
 * The history of each migration set as read-only commands see it (health, restore, dump):
 * the same sets and tables as `migrate`, on any session, writing nothing.
 */
import type { Env, ServerConnection } from '../db/config.js';
import type { Db } from '../db/pool.js';
import { type AppliedMigration, currentSchema, LEGACY_TABLE } from '../store/migration-log.js';
import { appliedIn } from './migrate-session.js';
import { appMigrationsTable, appSet, type MigrationSet, pgstoreSet } from './migration-sets.js';

export interface SetHistory {
  set: MigrationSet;
  applied: AppliedMigration[];
  /** Files not applied (empty when the set's folder is absent). */
  pending: number;
}

/** pgstore's set, and the app's when its folder exists (or was named). */
export async function setHistories(sql: Db, conn: ServerConnection, options: { env: Env; migrationsDir?: string | undefined }): Promise<SetHistory[]> {
  const pgstore = pgstoreSet();
  const app = appSet(options.migrationsDir, options.env, LEGACY_TABLE);
  const sets = [pgstore];
  if (app.present) {
    app.table = appMigrationsTable(options.env, conn.params.search_path, await currentSchema(sql));
    sets.push(app);
  }
  const out: SetHistory[] = [];
  for (const set of sets) {
    const applied = await appliedIn(sql, set, pgstore.files);
    const done = new Set(applied.map((m) => m.version));
    out.push({ set, applied, pending: set.files.filter((f) => !done.has(f.version)).length });
  }
  return out;
}
