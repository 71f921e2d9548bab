/**
 * The history of each migration set as read-only commands see it (health, restore, dump):
 * the same sets and tables as `migrate`, on any session, writing nothing.
 */
import type { Env, ServerConnection } from '../../db/config.js';
import type { Db } from '../../db/pool.js';
import {
  type AppliedMigration,
  currentSchema,
  LEGACY_TABLE,
  type MigrationTable,
  PGSTORE_TABLE,
  pgstoreRowsAmong,
  qualified,
  readMigrationLog,
} from '../../store/admin/index.js';
import { appliedIn, sameTable } from './session.js';
import { appMigrationsTable, appSet, type MigrationSet, pgstoreSet } from './sets.js';

export interface SetHistory {
  set: MigrationSet;
  applied: AppliedMigration[];
  /** Files not applied (empty when the set's folder is absent). */
  pending: number;
}

/** The two sets' files as setHistories reads them (health reads them while its statements run). */
export interface SetFiles {
  pgstore: MigrationSet;
  app: MigrationSet;
}

/** Reads pgstore's migrations and the app's (from --migrations-dir or the environment's folder). */
export function readSetFiles(options: { env: Env; migrationsDir?: string | undefined }): SetFiles {
  return { pgstore: pgstoreSet(), app: appSet(options.migrationsDir, options.env, LEGACY_TABLE) };
}

/**
 * pgstore's set, and the app's when its folder exists (or was named) or its history has rows.
 * Every read goes out at once (one round trip): the app's table is read where it usually is (the
 * current schema being public), and read again only when the session's current schema is another.
 */
export async function setHistories(
  sql: Db,
  conn: ServerConnection,
  options: { env: Env; migrationsDir?: string | undefined; files?: Promise<SetFiles> },
): Promise<SetHistory[]> {
  // The files are read here unless the caller reads them while these statements run (health).
  const files = options.files ?? readSetFiles(options);
  const appTable = (schema: string | null) => appMigrationsTable(options.env, conn.params.search_path, schema);
  const reads = new Map<string, Promise<AppliedMigration[]>>();
  const read = (table: MigrationTable) => {
    let rows = reads.get(qualified(table));
    if (!rows) {
      rows = readMigrationLog(sql, table);
      rows.catch(() => undefined); // a guess nobody reads fails quietly; a read one throws where awaited
      reads.set(qualified(table), rows);
    }
    return rows;
  };
  const schema = currentSchema(sql);
  schema.catch(() => undefined); // unread when the files cannot be; a read one throws where awaited
  for (const table of [PGSTORE_TABLE, LEGACY_TABLE, appTable('public')]) read(table);
  const { pgstore, app } = await files;
  app.table = appTable(await schema);
  const out: SetHistory[] = [];
  for (const set of [pgstore, app]) {
    const rows = await read(set.table);
    const legacy =
      set.name === 'pgstore' || sameTable(set.table, LEGACY_TABLE)
        ? pgstoreRowsAmong(await read(LEGACY_TABLE), pgstore.files)
        : [];
    const applied = await appliedIn(sql, set, pgstore.files, { rows, legacy });
    // The app's history counts even where its folder is not (a server checked from elsewhere).
    if (!set.present && applied.length === 0) continue;
    if (set.name === 'app' && sameTable(set.table, PGSTORE_TABLE)) continue; // refused by `migrate`; not counted twice
    const done = new Set(applied.map((m) => m.version));
    out.push({ set, applied, pending: set.files.filter((f) => !done.has(f.version)).length });
  }
  return out;
}
