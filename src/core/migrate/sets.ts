/**
 * The two migration sets and where each is read from and recorded:
 * - `pgstore`: pgstore's data-layer schema, shipped in the package (migrations/), recorded in
 *   `public.pgstore_schema_migrations`;
 * - `app`: the application's own migrations, found and recorded the way dbmate finds and
 *   records them, from dbmate's own configuration (flags first, then DBMATE_* variables).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Env } from '../../db/config.js';
import { UsageError } from '../../errors.js';
import { type MigrationTable, PGSTORE_TABLE } from '../../store/admin/index.js';
import { defaultMigrationsDir, type MigrationFile, readMigrations, readMigrationsInTurns } from './files.js';
import type { SetName } from '../../types/migrate-plan.js';

export type { SetName } from '../../types/migrate-plan.js';

export const SET_NAMES: SetName[] = ['pgstore', 'app'];

export interface MigrationSet {
  name: SetName;
  /** Absolute folder of the files. */
  dir: string;
  files: MigrationFile[];
  /** False when the app's folder is the default and does not exist: nothing to apply or check. */
  present: boolean;
  table: MigrationTable;
}

/** dbmate's configuration as dbmate reads it from its environment. */
export interface DbmateConfig {
  migrationsDir: string | undefined;
  migrationsTable: string | undefined;
  schemaFile: string | undefined;
  noDumpSchema: boolean;
  strict: boolean;
  wait: boolean;
  waitTimeoutSeconds: number | undefined;
}

const truthy = (value: string | undefined) => /^(1|t|true|yes|on)$/i.test(value?.trim() ?? '');

/** A Go duration (dbmate's DBMATE_WAIT_TIMEOUT: `90s`, `1m30s`, `2m`) in seconds. */
export function goDurationSeconds(text: string, from: string): number {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)];
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text.trim()) {
    throw new UsageError(`${from}='${text}' is not a duration`, {
      hint: 'Use a Go duration such as 30s, 2m or 1m30s.',
    });
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

export function dbmateConfig(env: Env): DbmateConfig {
  const timeout = env.DBMATE_WAIT_TIMEOUT?.trim();
  return {
    migrationsDir: env.DBMATE_MIGRATIONS_DIR?.trim() || undefined,
    migrationsTable: env.DBMATE_MIGRATIONS_TABLE?.trim() || undefined,
    schemaFile: env.DBMATE_SCHEMA_FILE?.trim() || undefined,
    noDumpSchema: truthy(env.DBMATE_NO_DUMP_SCHEMA),
    strict: truthy(env.DBMATE_STRICT),
    wait: truthy(env.DBMATE_WAIT),
    waitTimeoutSeconds: timeout ? goDurationSeconds(timeout, 'DBMATE_WAIT_TIMEOUT') : undefined,
  };
}

/** The app's folder: --migrations-dir, DBMATE_MIGRATIONS_DIR, ./db/migrations (as dbmate). */
export function appMigrationsDir(flag: string | undefined, env: Env): { dir: string; explicit: boolean } {
  const chosen = flag ?? dbmateConfig(env).migrationsDir;
  return { dir: resolve(chosen ?? 'db/migrations'), explicit: chosen !== undefined };
}

/**
 * Where dbmate records the app's migrations: DBMATE_MIGRATIONS_TABLE (`table` or
 * `schema.table`), default `schema_migrations`, in the first schema of the URL's search_path,
 * else the session's current schema, else public (dbmate's quotedMigrationsTableNameParts).
 */
export function appMigrationsTable(
  env: Env,
  urlSearchPath: string | undefined,
  currentSchema: string | null,
): MigrationTable {
  const configured = dbmateConfig(env).migrationsTable ?? 'schema_migrations';
  const parts = configured.split('.');
  if (parts.length > 1) return { schema: parts[0]!, name: parts.slice(1).join('.') };
  const first = urlSearchPath?.split(',')[0]?.trim();
  return { schema: first || currentSchema || 'public', name: configured };
}

export function pgstoreSet(): MigrationSet {
  return loadSetFiles(pgstoreFolder());
}

/** The app's set; a missing default folder is an absent set, a missing named one an error. */
export function appSet(flag: string | undefined, env: Env, table: MigrationTable): MigrationSet {
  return loadSetFiles(appFolder(flag, env, table));
}

/** pgstore's set with its files not read yet (loadSetFiles reads them). */
export function pgstoreFolder(): MigrationSet {
  return { name: 'pgstore', dir: defaultMigrationsDir(), files: [], present: true, table: PGSTORE_TABLE };
}

/** The app's set with its files not read yet: where they are, and whether the folder is there. */
export function appFolder(flag: string | undefined, env: Env, table: MigrationTable): MigrationSet {
  const { dir, explicit } = appMigrationsDir(flag, env);
  const present = explicit || (existsSync(dir) && statSync(dir).isDirectory());
  return { name: 'app', dir, files: [], present, table };
}

/** Reads and checks the set's files (none for an absent set); throws UsageError as readMigrations. */
export function loadSetFiles(set: MigrationSet): MigrationSet {
  set.files = set.present ? readMigrations(set.dir) : [];
  return set;
}

/** loadSetFiles, a file per turn of the event loop (readMigrationsInTurns). */
export async function loadSetFilesInTurns(set: MigrationSet): Promise<MigrationSet> {
  set.files = set.present ? await readMigrationsInTurns(set.dir) : [];
  return set;
}

/** Parses --set. */
export function parseSetName(value: string | undefined): SetName | undefined {
  if (value === undefined) return undefined;
  if (value === 'pgstore' || value === 'app') return value;
  throw new UsageError(`--set ${value}: must be pgstore or app`, {
    hint: "pgstore: pgstore's own schema; app: your migrations folder.",
  });
}
