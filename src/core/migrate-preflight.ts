/**
 * The lint pre-flight of `migrate up`: the pending files of the application's migrations are
 * linted before anything is applied. Findings are warnings; with --strict, error-level
 * findings refuse the run (exit 1) and nothing is applied.
 */
import { PgstoreError } from '../errors.js';
import { SquawkMissingError } from '../tools/squawk.js';
import type { MigrateOptions } from './migrate.js';
import { lintEach, RUNNER_SETS, type LintResult, summarise } from './migrate-lint.js';
import { migrationStatus } from './migrate-status.js';
import { readMigrations } from './migration-files.js';
import { appMigrationsDir } from './migration-sets.js';
import { existsSync } from 'node:fs';

/** Lint found error-level statements and --strict was given: exit 1, nothing applied. */
export class MigrationLintError extends PgstoreError {}

/**
 * Lints the pending migrations of the application's set (pgstore's own set is linted by its
 * own tests, not at every run). Returns null when there is nothing to lint.
 */
export async function preflightLint(options: MigrateOptions): Promise<LintResult | null> {
  if (options.set === 'pgstore') return null;
  const dir = appMigrationsDir(options.migrationsDir, options.env).dir;
  if (!existsSync(dir)) return null;
  const files = readMigrations(dir);
  if (files.length === 0) return null;
  const status = await migrationStatus({ ...options, set: 'app' });
  const pending = new Set(status.pending.filter((p) => p.set === 'app').map((p) => p.version));
  const targets = files.filter((f) => pending.has(f.version)).map((f) => ({ path: f.path, shownAs: f.filename }));
  if (targets.length === 0) return null;
  let linted;
  try {
    linted = await lintEach(targets, RUNNER_SETS);
  } catch (error) {
    // The lint is a pre-flight, not the job: where squawk ships no binary, say so and apply.
    if (!(error instanceof SquawkMissingError)) throw error;
    return { ...summarise([]), skipped: `${error.message}: ${targets.length} pending migration(s) not linted` };
  }
  const result = summarise(linted);
  if (options.strict && result.errors > 0) {
    const first = result.files.flatMap((f) => f.findings).filter((f) => f.level === 'error');
    throw new MigrationLintError(
      `--strict: lint found ${result.errors} dangerous statement(s) in pending migrations: ${first
        .slice(0, 3)
        .map((f) => `${f.file}:${f.line} ${f.rule}`)
        .join('; ')}${first.length > 3 ? '; ...' : ''}`,
      { hint: 'Nothing was applied. See `pgstore migrate lint` for each finding and its safer alternative.' },
    );
  }
  return result;
}
