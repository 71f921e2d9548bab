/**
 * `pgstore migrate status | verify | new`: what is applied, pending and drifted in each set;
 * whether the files and the database agree; a new migration file in the app's folder.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { makeDirs } from '../../util/make-dirs.js';
import { qualified } from '../../store/admin/index.js';
import { appliedIn, type MigrateOptions, openMigrationSession } from './session.js';
import { findDrift, newMigrationFilename, readMigrations } from './files.js';
import { appMigrationsDir, type SetName } from './sets.js';

export interface MigrationStatusEntry {
  set: SetName;
  version: string;
  name: string;
  appliedAt: string | null;
}

export interface DriftEntry {
  set: SetName;
  version: string;
  filename: string;
  problem: 'edited' | 'missing';
  message: string;
}

export interface SetSummary {
  name: SetName;
  dir: string;
  /** The history table, quoted and schema-qualified. */
  table: string;
  /** False when the app's default folder does not exist (its files are not checked). */
  present: boolean;
  applied: number;
  pending: number;
}

export interface MigrationStatus {
  database: string;
  sets: SetSummary[];
  applied: MigrationStatusEntry[];
  pending: MigrationStatusEntry[];
  drift: DriftEntry[];
  /** Pending migrations older than the newest applied one of their set (refused by --strict). */
  outOfOrder: string[];
  strict: boolean;
}

/** Applied, pending and drifted migrations of the target database, set by set. Writes nothing. */
export async function migrationStatus(options: MigrateOptions): Promise<MigrationStatus> {
  const session = await openMigrationSession(options);
  try {
    const result: MigrationStatus = {
      database: session.conn.database,
      sets: [],
      applied: [],
      pending: [],
      drift: [],
      outOfOrder: [],
      strict: session.strict,
    };
    for (const set of session.sets) {
      const applied = await appliedIn(session.sql, set, session.pgstoreFiles);
      const byVersion = new Map(set.files.map((f) => [f.version, f]));
      const done = new Set(applied.map((m) => m.version));
      const newest = applied.at(-1)?.version;
      const pending = set.files.filter((f) => !done.has(f.version));
      result.sets.push({
        name: set.name,
        dir: set.dir,
        table: qualified(set.table),
        present: set.present,
        applied: applied.length,
        pending: pending.length,
      });
      result.applied.push(
        ...applied.map((m) => ({
          set: set.name,
          version: m.version,
          name: byVersion.get(m.version)?.name ?? m.filename?.replace(/^\d+[_\-.]?|\.sql$/g, '') ?? '?',
          appliedAt: m.appliedAt?.toISOString() ?? null,
        })),
      );
      result.pending.push(
        ...pending.map((f) => ({ set: set.name, version: f.version, name: f.name, appliedAt: null })),
      );
      if (!set.present) continue; // no folder here: nothing to compare with
      result.drift.push(
        ...findDrift(set.files, applied).map((d) => ({
          set: set.name,
          ...d,
          message:
            d.problem === 'edited'
              ? `${d.filename} (${set.name} set) was edited after it was applied`
              : `${d.filename} (${set.name} set) was applied but is not in ${set.dir}`,
        })),
      );
      if (newest)
        result.outOfOrder.push(
          ...pending.filter((f) => f.version < newest).map((f) => `${f.filename} (${set.name} set)`),
        );
    }
    return result;
  } finally {
    await session.close();
  }
}

export interface VerifyResult extends MigrationStatus {
  ok: boolean;
  problems: string[];
  warnings: string[];
}

/**
 * Checks that files and database agree: the files are well formed (pre-flight, on opening),
 * no applied file was edited or removed (problems: exit 1). A missing down section is a
 * warning, as are out-of-order pending migrations (problems with --strict).
 */
export async function verifyMigrations(options: MigrateOptions): Promise<VerifyResult> {
  const status = await migrationStatus(options);
  const problems: string[] = status.drift.map((d) => d.message);
  const warnings: string[] = [];
  for (const set of status.sets.filter((s) => s.present)) {
    for (const f of readMigrations(set.dir))
      if (!f.hasDown)
        warnings.push(`${f.filename} (${set.name} set) has no '-- migrate:down' section; it cannot be rolled back`);
  }
  for (const f of status.outOfOrder)
    (status.strict ? problems : warnings).push(`${f} is pending but older than the newest applied migration`);
  return { ...status, ok: problems.length === 0, problems, warnings };
}

/** Creates an empty migration file with up and down sections in the app's folder (the one `up` uses); returns its path. */
export function newMigration(options: {
  migrationsDir?: string | undefined;
  env: Record<string, string | undefined>;
  name: string;
  now?: Date;
}): string {
  const { dir } = appMigrationsDir(options.migrationsDir, options.env);
  const filename = newMigrationFilename(options.name, options.now);
  if (existsSync(dir)) readMigrations(dir); // refuse to add to a folder that is already broken
  makeDirs(dir);
  const path = join(dir, filename);
  if (existsSync(path))
    throw new UsageError(`${path} already exists`, { hint: 'Wait a second, or choose another name.' });
  writeFileSync(path, '-- migrate:up\n\n\n-- migrate:down\n\n', { flag: 'wx' });
  return path;
}
