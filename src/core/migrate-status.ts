/**
 * `pgstore migrate status | verify | new`: what is applied, pending and drifted; whether the
 * files and the database agree; a new migration file.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { appliedMigrations } from '../store/migration-log.js';
import { type MigrateOptions, openMigrationSession } from './migrate.js';
import { defaultMigrationsDir, findDrift, newMigrationFilename, readMigrations } from './migration-files.js';

export interface MigrationStatusEntry {
  version: string;
  name: string;
  appliedAt: string | null;
}

export interface DriftEntry {
  version: string;
  filename: string;
  problem: 'edited' | 'missing';
  message: string;
}

export interface MigrationStatus {
  database: string;
  applied: MigrationStatusEntry[];
  pending: MigrationStatusEntry[];
  drift: DriftEntry[];
  /** Pending migrations older than the newest applied one (refused by --strict). */
  outOfOrder: string[];
}

/** Applied, pending and drifted migrations of the target database. */
export async function migrationStatus(options: MigrateOptions): Promise<MigrationStatus> {
  const session = await openMigrationSession(options);
  try {
    const applied = await appliedMigrations(session.sql);
    const byVersion = new Map(session.files.map((f) => [f.version, f]));
    const done = new Set(applied.map((m) => m.version));
    const newest = applied.at(-1)?.version;
    const pending = session.files.filter((f) => !done.has(f.version));
    return {
      database: session.conn.database,
      applied: applied.map((m) => ({
        version: m.version,
        name: byVersion.get(m.version)?.name ?? m.filename?.replace(/^\d+_|\.sql$/g, '') ?? '?',
        appliedAt: m.appliedAt?.toISOString() ?? null,
      })),
      pending: pending.map((f) => ({ version: f.version, name: f.name, appliedAt: null })),
      drift: findDrift(session.files, applied).map((d) => ({
        ...d,
        message: d.problem === 'edited' ? `${d.filename} was edited after it was applied` : `${d.filename} was applied but is no longer in the migrations folder`,
      })),
      outOfOrder: newest ? pending.filter((f) => f.version < newest).map((f) => f.filename) : [],
    };
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
 * Checks that files and database agree: the files are well formed (pre-flight), every file
 * has a down section, no applied file was edited or removed. Drift is a warning, or a
 * problem with --strict (as are out-of-order pending migrations).
 */
export async function verifyMigrations(options: MigrateOptions): Promise<VerifyResult> {
  const status = await migrationStatus(options);
  const files = readMigrations(options.migrationsDir ?? defaultMigrationsDir());
  const problems: string[] = [];
  const warnings: string[] = files.filter((f) => !f.hasDown).map((f) => `${f.filename} has no '-- migrate:down' section; it cannot be rolled back`);
  for (const d of status.drift) (options.strict ? problems : warnings).push(d.message);
  for (const f of status.outOfOrder) (options.strict ? problems : warnings).push(`${f} is pending but older than the newest applied migration`);
  return { ...status, ok: problems.length === 0, problems, warnings };
}

/** Creates an empty migration file with up and down sections; returns its path. */
export function newMigration(options: { migrationsDir?: string | undefined; name: string; now?: Date }): string {
  const dir = resolve(options.migrationsDir ?? defaultMigrationsDir());
  // The folder itself is created, never a chain of parents: a typo in the path is an error.
  if (!existsSync(dir)) mkdirSync(dir);
  const path = join(dir, newMigrationFilename(options.name, options.now));
  if (existsSync(path)) throw new UsageError(`${path} already exists`, { hint: 'Wait a second, or choose another name.' });
  if (existsSync(dir)) readMigrations(dir); // refuse to add to a folder that is already broken
  writeFileSync(path, '-- migrate:up\n\n\n-- migrate:down\n\n', { flag: 'wx' });
  return path;
}
