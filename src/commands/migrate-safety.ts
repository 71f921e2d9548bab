/**
 * `pgstore migrate lint | plan | diff`, and the lint pre-flight of `migrate up`: one small
 * factory per subcommand, registered by commands/migrate.ts.
 */
import { Command, Option } from 'commander';
import type { LintFinding } from '../core/migrate/index.js';
import type { MigrateOptions } from '../core/migrate/index.js';
import type { Output } from '../ui/output.js';
import { action, type ActionIO, backupDirHelp, type CommandContext, examples } from './context.js';
import { wholeNumber } from './parse.js';
import { plural } from '../util/format.js';

interface Flags {
  migrationsDir?: string;
  strict?: boolean;
  wait?: boolean;
  waitTimeout: number;
}

const EXIT_CODES = {
  lint: 'Exit codes: 0 linted (no error-level finding, or no --strict), 1 --strict and an error-level finding, 2 a missing or malformed file.',
  plan: 'Exit codes: 0 planned (and the rehearsal passed), 1 a migration failed in rehearsal or --strict and an error-level finding, 2 bad flags, files or backup ID.',
  diff: 'Exit codes: 0 no drift, 1 drift (or a file failed to apply to the scratch database), 2 bad flags or files.',
};

function common(command: Command): Command {
  return command
    .option(
      '--migrations-dir <dir>',
      "your application's dbmate migrations (default: $DBMATE_MIGRATIONS_DIR, then ./db/migrations)",
    )
    .option('--wait', 'keep trying while the server is unreachable')
    .addOption(
      new Option('--wait-timeout <seconds>', 'how long --wait keeps trying')
        .default(60)
        .argParser(wholeNumber('--wait-timeout', 1)),
    );
}

const migrateCore = () => import('../core/migrate/index.js');

function coreOf(io: ActionIO, flags: Flags): MigrateOptions {
  return {
    ...io.core(),
    migrationsDir: flags.migrationsDir,
    strict: false,
    waitTimeoutSeconds: flags.wait ? flags.waitTimeout : undefined,
  };
}

function showFinding(out: Output, f: LintFinding, prefix = ''): void {
  const level = f.level === 'error' ? out.c.red('error') : out.c.yellow('warning');
  out.result(`${prefix}${f.file}:${f.line}:${f.column} ${level} ${f.rule}: ${f.message}`);
  out.result(`${prefix}    instead: ${f.alternative}`);
}

/**
 * The lint pre-flight of `migrate up`: `beforeApply`, a hook that migrateUp calls with the
 * pending files once it knows them (on its own session), before applying any. Only the
 * application's set is linted (pgstore's own is linted by its tests); none with --no-lint.
 *
 * With --strict the hook waits for the lint, and an error-level finding refuses the run before
 * anything is applied. Without it the findings only warn, so the lint does not hold the
 * migrations back: it runs beside them (squawk is another process, on another core) and
 * `settle()`, awaited once migrateUp is done or failed, prints what it found.
 */
export function lintBeforeUp(
  out: Output,
  options: { lint?: boolean; strict?: boolean; set?: string | undefined },
): { beforeApply: MigrateOptions['beforeApply']; settle(): Promise<void> } {
  if (options.lint === false || options.set === 'pgstore')
    return { beforeApply: undefined, settle: () => Promise.resolve() };
  let running: Promise<string[]> | undefined;
  return {
    beforeApply: async (pending, run) => {
      const files = pending.filter((p) => p.set.name === 'app').flatMap((p) => p.files);
      if (files.length === 0) return; // nothing pending: the linter is not even loaded
      if (options.strict || run.strict) {
        for (const line of await lintWarnings(out, files, true)) out.warn(line);
        return;
      }
      // Printed by settle(), once the progress output is done. Started a turn of the event
      // loop later: the migrations' queries go out first (reading and writing the files for
      // squawk is synchronous work on this thread).
      running = new Promise((resolve) => setImmediate(resolve))
        .then(() => lintWarnings(out, files, false))
        .catch((error: unknown) => [
          `lint: ${error instanceof Error ? error.message : String(error)}; the pending migrations were not linted`,
        ]);
    },
    settle: async () => {
      const lines = (await running) ?? [];
      running = undefined;
      for (const line of lines) out.warn(line);
    },
  };
}

/** The lint's warnings for the pending files (with `strict`, an error-level finding throws). */
async function lintWarnings(
  out: Output,
  files: Parameters<NonNullable<MigrateOptions['beforeApply']>>[0][number]['files'],
  strict: boolean,
): Promise<string[]> {
  const { preflightLint } = await import('../core/migrate/index.js');
  const result = await preflightLint(files, { strict });
  const lines: string[] = [];
  if (result?.skipped) lines.push(result.skipped);
  if (result && !out.options.json) {
    // Only what blocks a live table is spelled out; the rest is a count (every finding, with
    // its alternative, is one `pgstore migrate lint` away).
    const findings = result.files.flatMap((file) => file.findings);
    // Printed as warnings: without --strict they do not stop the deploy (no "warning: … error").
    for (const f of findings.filter((x) => x.level === 'error'))
      lines.push(`${f.file}:${f.line} ${f.rule}: ${f.message} (instead: ${f.alternative})`);
    if (result.warnings > 0)
      lines.push(
        `lint: ${plural(result.warnings, 'warning')} in pending migrations; \`pgstore migrate lint\` lists them`,
      );
  }
  return lines;
}

export function lintCommand(ctx: CommandContext): Command {
  const command = common(
    new Command('lint').description(
      'lint the up section of migration files with squawk: blocking locks, table rewrites, missing timeouts (each with a safer alternative)',
    ),
  )
    .argument('[files...]', 'migration files (default: every file in the migrations folder)')
    .option('--strict', 'exit 1 when a finding is at error level')
    .addHelpText('after', `\n${EXIT_CODES.lint}\n`)
    .action(
      action(ctx, {
        load: migrateCore,
        call: (migrate, io, files: string[], flags: Flags) =>
          migrate.lintMigrations({ files, migrationsDir: flags.migrationsDir, env: io.env }),
        text: (out, result) => {
          for (const file of result.files) for (const f of file.findings) showFinding(out, f);
          out.result(
            `${plural(result.files.length, 'file')} linted: ${plural(result.errors, 'error')}, ${plural(result.warnings, 'warning')}.`,
          );
        },
        exitCode: (result, [, flags]) => (flags.strict && result.errors > 0 ? 1 : undefined),
      }),
    );
  return examples(command, [
    'pgstore migrate lint --migrations-dir db/migrations',
    'pgstore migrate lint db/migrations/20260101120000_add_index.sql --strict',
    'pgstore migrate lint --json',
  ]);
}

export function planCommand(ctx: CommandContext): Command {
  const command = common(
    new Command('plan').description(
      'list pending migrations with their SQL, lint findings and the locks they take; --rehearse applies them to a restored backup first',
    ),
  )
    .option(
      '--rehearse [backup]',
      'restore this backup (default: the latest verified one) into a scratch database and apply the pending migrations there, timing each',
    )
    .option('--backup-dir <dir>', backupDirHelp(ctx.env, 'where backups are looked up'))
    .option('--strict', 'exit 1 when a lint finding is at error level')
    .addHelpText('after', `\n${EXIT_CODES.plan}\n`)
    .action(
      action(ctx, {
        load: () => import('../core/migrate-plan/index.js'),
        call: (migrate, io, flags: Flags & { rehearse?: string | true; backupDir?: string }) =>
          migrate.planMigrations({
            ...coreOf(io, flags),
            rehearse: flags.rehearse === true ? 'latest' : flags.rehearse,
            backupDir: flags.backupDir,
          }),
        text: async (out, plan) => (await import('../ui/migrate-plan-view.js')).showPlan(out, plan),
        exitCode: (plan, [flags]) => {
          const lintErrors = plan.pending.some((p) => p.findings.some((f) => f.level === 'error'));
          return (plan.rehearsal && !plan.rehearsal.ok) || (flags.strict && lintErrors) ? 1 : undefined;
        },
      }),
    );
  return examples(command, [
    'pgstore migrate plan --migrations-dir db/migrations',
    'pgstore migrate plan --rehearse --migrations-dir db/migrations',
    'pgstore migrate plan --rehearse 20260101T120000Z --json',
  ]);
}

export function diffCommand(ctx: CommandContext): Command {
  const command = common(
    new Command('diff').description(
      'migrate a scratch database from the files and compare its schema with the live database (exit 1 on drift)',
    ),
  )
    .addHelpText('after', `\n${EXIT_CODES.diff}\n`)
    .action(
      action(ctx, {
        load: migrateCore,
        call: (migrate, io, flags: Flags) => migrate.diffSchema(coreOf(io, flags)),
        text: (out, diff) => {
          for (const o of diff.onlyInLive) out.result(`only in the live database: ${o}`);
          for (const o of diff.onlyInFiles) out.result(`only in the migration files: ${o}`);
          for (const c of diff.changed) {
            out.result(`differs: ${c.object}`);
            for (const l of c.onlyInLive) out.result(`  live:  ${l}`);
            for (const l of c.onlyInFiles) out.result(`  files: ${l}`);
          }
          out.result(
            diff.equal
              ? `No drift: database ${diff.database} matches its ${plural(diff.migrationsApplied, 'migration file')}.`
              : `Drift: ${plural(diff.onlyInLive.length + diff.onlyInFiles.length + diff.changed.length, 'object')} differ${diff.onlyInLive.length + diff.onlyInFiles.length + diff.changed.length === 1 ? 's' : ''} between database ${diff.database} and its migration files.`,
          );
        },
        exitCode: (diff) => (diff.equal ? undefined : 1),
      }),
    );
  return examples(command, [
    'pgstore migrate diff --migrations-dir db/migrations',
    'pgstore migrate diff --json || echo "schema drift"',
  ]);
}
