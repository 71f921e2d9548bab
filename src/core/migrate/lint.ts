/**
 * `pgstore migrate lint` and the pre-flight check of `migrate up`: squawk on the `up` section
 * of each migration file (told whether dbmate runs it in a transaction), its findings mapped
 * back to the file's own lines, each with a level and a safer alternative.
 *
 * Levels: squawk reports nearly every rule as a warning, so pgstore decides. "error" is a
 * statement that blocks reads or writes on an existing table for as long as the table takes to
 * scan or rewrite, or that cannot run as written; everything else (style, robustness, a missing
 * timeout setting) is a "warning". `--strict` refuses on errors.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { runSquawk, runSquawkFiles, type SquawkFinding } from '../../tools/squawk.js';
import { readMigrations } from './files.js';
import { appMigrationsDir } from './sets.js';
import { readUpSection, statementsOf, type UpSection } from '../sql-statements.js';
import type { LintFinding, LintLevel } from '../../types/migrate-plan.js';

export type { LintFinding, LintLevel } from '../../types/migrate-plan.js';

export interface LintedFile {
  file: string;
  /** Whether dbmate runs the up section in a transaction (false: `transaction:false`). */
  transactional: boolean;
  findings: LintFinding[];
}

export interface LintResult {
  files: LintedFile[];
  errors: number;
  warnings: number;
  /** Why nothing was linted (the pre-flight of `up` where squawk has no binary), else absent. */
  skipped?: string;
}

/** Rules whose findings are errors (see the file comment). */
export const ERROR_RULES = new Set([
  'syntax-error',
  'require-concurrent-index-creation',
  'require-concurrent-index-deletion',
  'ban-concurrent-index-creation-in-transaction',
  'adding-not-nullable-field',
  'adding-required-field',
  'adding-field-with-default',
  'adding-serial-primary-key-field',
  'adding-foreign-key-constraint',
  'constraint-missing-not-valid',
  'disallowed-unique-constraint',
  'changing-column-type',
  'ban-alter-domain-with-add-constraint',
  'ban-drop-database',
  'ban-truncate-cascade',
  'transaction-nesting',
  'pgstore-no-transaction-block',
]);

/** Safer alternatives where squawk gives none (or a terse one). */
const ALTERNATIVES: Record<string, string> = {
  'require-concurrent-index-creation':
    'CREATE INDEX CONCURRENTLY in a file of its own marked `-- migrate:up transaction:false`.',
  'require-concurrent-index-deletion': 'DROP INDEX CONCURRENTLY in a file marked `-- migrate:up transaction:false`.',
  'ban-concurrent-index-creation-in-transaction':
    'Mark the file `-- migrate:up transaction:false` and keep the CONCURRENTLY statement alone in it.',
  'adding-not-nullable-field':
    'Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later migration, then SET NOT NULL (PostgreSQL 12+ uses the valid check and skips the scan).',
  'adding-required-field':
    'Add the column nullable (or with a constant default), backfill in batches, then add the NOT NULL as a validated CHECK.',
  'adding-field-with-default':
    'Add the column without the volatile default, backfill in batches, then SET DEFAULT for new rows.',
  'changing-column-type':
    'Add a new column of the new type, backfill it in batches, switch readers and writers, then drop the old column.',
  'adding-foreign-key-constraint':
    'ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a separate migration.',
  'constraint-missing-not-valid':
    'Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a separate migration (it takes only SHARE UPDATE EXCLUSIVE).',
  'disallowed-unique-constraint':
    'CREATE UNIQUE INDEX CONCURRENTLY (transaction:false file), then ADD CONSTRAINT ... UNIQUE USING INDEX.',
  'adding-serial-primary-key-field':
    'Build a unique index CONCURRENTLY first, then ADD CONSTRAINT ... PRIMARY KEY USING INDEX.',
  'require-lock-timeout':
    "Start the file with SET lock_timeout = '2s' (so a blocked ALTER fails fast instead of queueing every query behind it), and retry.",
  'require-statement-timeout': "Start the file with SET statement_timeout = '...' sized for the statement.",
  'prefer-robust-stmts': 'Use IF NOT EXISTS / IF EXISTS so a partly applied non-transactional file can be run again.',
  'renaming-column':
    'Add the new column, write both, switch readers, then drop the old one (clients still use the old name).',
  'renaming-table':
    'Create a view with the old name during the switch, or rename in a release where no client uses the old name.',
  'ban-drop-column': 'Stop using the column in every client first; drop it in a later release.',
  'ban-drop-table': 'Stop using the table in every client first; drop it in a later release.',
  'ban-drop-database': 'Drop databases outside migrations, by hand.',
  'ban-truncate-cascade': 'TRUNCATE the tables you mean by name, without CASCADE.',
  'transaction-nesting':
    'Remove BEGIN/COMMIT: dbmate already wraps the file in a transaction (or mark it transaction:false).',
  'syntax-error': 'Fix the SQL; PostgreSQL would refuse it.',
  'pgstore-no-transaction-block':
    'Put this statement alone in a migration file of its own marked `-- migrate:up transaction:false`.',
};

/**
 * Statements PostgreSQL refuses inside a transaction block. dbmate sends a transaction:false
 * section as one multi-statement query, which PostgreSQL runs as one implicit transaction, so
 * such a statement must be alone in its section (squawk does not know how dbmate sends files).
 */
const NO_TRANSACTION_BLOCK =
  /^(create\s+(unique\s+)?index\s+concurrently|drop\s+index\s+concurrently|reindex\b.*\bconcurrently|vacuum\b|create\s+database|drop\s+database|alter\s+system|create\s+tablespace|drop\s+tablespace|alter\s+table\b.*\bdetach\s+partition\b.*\bconcurrently)/is;

/** pgstore's own rule (see NO_TRANSACTION_BLOCK), which squawk misses for dbmate files. */
function transactionBlockFindings(
  sql: string,
  transactional: boolean,
  shownAs: string,
  already: Set<number>,
): LintFinding[] {
  const statements = statementsOf(sql);
  if (!transactional && statements.length < 2) return [];
  return statements
    .filter((s) => NO_TRANSACTION_BLOCK.test(s.text) && !already.has(s.line))
    .map((s) => ({
      file: shownAs,
      line: s.line,
      column: 1,
      rule: 'pgstore-no-transaction-block',
      level: 'error' as const,
      message: transactional
        ? 'This statement cannot run inside a transaction block, and dbmate runs this section in one.'
        : 'This statement cannot run inside a transaction block: dbmate sends a transaction:false section as one query, which PostgreSQL runs as one implicit transaction when it holds several statements.',
      alternative: ALTERNATIVES['pgstore-no-transaction-block']!,
    }));
}

const levelOf = (rule: string): LintLevel => (ERROR_RULES.has(rule) ? 'error' : 'warning');

/**
 * Lints the up section of one migration file. `exclude`: rules not to report, e.g.
 * require-lock-timeout and require-statement-timeout when the runner sets both for its session.
 */
export async function lintFile(path: string, shownAs = path, exclude?: string[]): Promise<LintedFile> {
  const up = readUpSection(path);
  const raw = await runSquawk({ sql: up.sql, filepath: basename(path), inTransaction: up.transactional, exclude });
  return linted(up, raw, shownAs);
}

function linted(up: UpSection, raw: SquawkFinding[], shownAs: string): LintedFile {
  const findings: LintFinding[] = raw.map((f) => ({
    file: shownAs,
    line: f.line + 1,
    column: f.column + 1,
    rule: f.rule_name,
    level: levelOf(f.rule_name),
    message: f.message,
    alternative: ALTERNATIVES[f.rule_name] ?? f.help ?? `See https://squawkhq.com/docs/${f.rule_name}`,
  }));
  if (up.dbmate) {
    const flagged = new Set(
      findings.filter((f) => f.rule === 'ban-concurrent-index-creation-in-transaction').map((f) => f.line),
    );
    findings.push(...transactionBlockFindings(up.sql, up.transactional, shownAs, flagged));
  }
  findings.sort((a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
  return { file: shownAs, transactional: up.transactional, findings };
}

export interface LintOptions {
  /** Files to lint; none: every migration in the application's folder. */
  files?: string[];
  migrationsDir?: string | undefined;
  /** Where DBMATE_MIGRATIONS_DIR is read from. */
  env?: Record<string, string | undefined>;
}

/** Lints the given files, or every migration in the folder. */
export async function lintMigrations(options: LintOptions): Promise<LintResult> {
  let targets: Array<{ path: string; shownAs: string }>;
  if (options.files?.length) {
    targets = options.files.map((f) => {
      if (!existsSync(f) || !statSync(f).isFile())
        throw new UsageError(`no such file: ${f}`, {
          hint: 'Pass migration files, or no files to lint the whole migrations folder.',
        });
      return { path: resolve(f), shownAs: f };
    });
  } else {
    const dir = appMigrationsDir(options.migrationsDir, options.env ?? {}).dir;
    if (!existsSync(dir))
      throw new UsageError(`migrations folder not found: ${dir}`, {
        hint: 'Pass --migrations-dir (or set DBMATE_MIGRATIONS_DIR), or name the files to lint.',
      });
    const files = readMigrations(dir);
    targets = files.map((f) => ({ path: f.path, shownAs: f.filename }));
  }
  return summarise(await lintEach(targets));
}

export { RUNNER_SETS } from './runner-sets.js';

/**
 * Lints files with one squawk run per kind of up section (in a transaction or not), not one
 * per file: the up sections are written to a private temporary folder and named there.
 */
export async function lintEach(
  targets: Array<{ path: string; shownAs: string }>,
  exclude?: string[],
): Promise<LintedFile[]> {
  if (targets.length === 0) return [];
  const ups = targets.map((t) => readUpSection(t.path));
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-lint-'));
  try {
    const paths = ups.map((up, i) => {
      const path = join(dir, `${i}.sql`);
      writeFileSync(path, up.sql);
      return path;
    });
    const raw = new Map<string, SquawkFinding[]>(paths.map((p) => [p, []]));
    for (const inTransaction of [true, false]) {
      const group = paths.filter((_, i) => ups[i]!.transactional === inTransaction);
      for (let start = 0; start < group.length; start += 200) {
        for (const f of await runSquawkFiles(group.slice(start, start + 200), { inTransaction, exclude }))
          raw.get(f.file)?.push(f);
      }
    }
    return targets.map((t, i) => linted(ups[i]!, raw.get(paths[i]!)!, t.shownAs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function summarise(files: LintedFile[]): LintResult {
  const all = files.flatMap((f) => f.findings);
  return {
    files,
    errors: all.filter((f) => f.level === 'error').length,
    warnings: all.filter((f) => f.level === 'warning').length,
  };
}
