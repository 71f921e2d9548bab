/**
 * The lint pre-flight of `migrate up`: the pending files of the application's migrations are
 * linted before anything is applied. Findings are warnings; with --strict, error-level
 * findings refuse the run (exit 1) and nothing is applied.
 */
import { MigrationLintError } from '../../errors.js';
import { SquawkMissingError } from '../../tools/squawk.js';
import { lintEach, RUNNER_SETS, type LintResult, summarise } from './lint.js';
import type { MigrationFile } from './files.js';
import { plural } from '../../util/format.js';

export { MigrationLintError } from '../../errors.js';

/**
 * Lints the pending migrations of the application's set (pgstore's own set is linted by its
 * own tests, not at every run). Runs inside `migrate up`, once the pending files are known, on
 * its session: no second connection. Returns null when there is nothing to lint.
 */
export async function preflightLint(
  pending: MigrationFile[],
  options: { strict?: boolean },
): Promise<LintResult | null> {
  const targets = pending.map((f) => ({ path: f.path, shownAs: f.filename }));
  if (targets.length === 0) return null;
  let linted: Awaited<ReturnType<typeof lintEach>>;
  try {
    linted = await lintEach(targets, RUNNER_SETS);
  } catch (error) {
    // The lint is a pre-flight, not the job: where squawk ships no binary, say so and apply.
    if (!(error instanceof SquawkMissingError)) throw error;
    return { ...summarise([]), skipped: `${error.message}: ${plural(targets.length, 'pending migration')} not linted` };
  }
  const result = summarise(linted);
  if (options.strict && result.errors > 0) {
    const first = result.files.flatMap((f) => f.findings).filter((f) => f.level === 'error');
    throw new MigrationLintError(
      `--strict: lint found ${plural(result.errors, 'dangerous statement')} in pending migrations: ${first
        .slice(0, 3)
        .map((f) => `${f.file}:${f.line} ${f.rule}`)
        .join('; ')}${first.length > 3 ? '; ...' : ''}`,
      { hint: 'Nothing was applied. See `pgstore migrate lint` for each finding and its safer alternative.' },
    );
  }
  return result;
}
