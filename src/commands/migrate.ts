/**
 * `pgstore migrate up | down | status | new | dump | verify`: each subcommand in its own
 * factory; `migrateCommand` registers them.
 */
import { Command, Option } from 'commander';
import type { MigrateOptions, MigrateResult, MigrationStatus } from '../core/migrate/index.js';
import { confirmer } from '../ui/confirm.js';
import type { Output } from '../ui/output.js';
import { migrateProgressFor } from '../ui/progress-sink.js';
import { action, type ActionIO, type CommandContext, examples } from './context.js';
import { creatableFolder, duration, existingFolder, outputFile, wholeNumber } from './parse.js';
import { diffCommand, lintBeforeUp, lintCommand, planCommand } from './migrate-safety.js';
import { addSubcommands } from './subcommands.js';
import { plural } from '../util/format.js';

interface CommonFlags {
  migrationsDir?: string;
  set?: string;
  lock: boolean;
  migrationLockTimeout: number;
  lockTimeout?: number;
  statementTimeout?: number;
  retries?: number;
  engine?: string;
  strict?: boolean;
  wait?: boolean;
  waitTimeout: number;
}

function withCommonOptions(command: Command, { changes = true } = {}): Command {
  command
    .option(
      '--migrations-dir <dir>',
      "your application's dbmate migrations (default: $DBMATE_MIGRATIONS_DIR, then ./db/migrations)",
      existingFolder('--migrations-dir', 'migrations folder'),
    )
    .addOption(
      new Option('--set <set>', "only this migration set: pgstore (pgstore's own schema) or app (yours)").choices([
        'pgstore',
        'app',
      ]),
    );
  if (changes) {
    command
      .option('--no-lock', 'do not take the migration lock (for poolers that cannot hold a session lock)')
      .addOption(
        new Option('--migration-lock-timeout <seconds>', 'wait this long for the migration lock, then exit 3')
          .default(300)
          .argParser(wholeNumber('--migration-lock-timeout')),
      )
      .addOption(
        new Option(
          '--lock-timeout <duration>',
          'lock_timeout of each migration: give up waiting for a table lock after this long (default 5s)',
        ).argParser(duration('--lock-timeout')),
      )
      .addOption(
        new Option(
          '--statement-timeout <duration>',
          "statement_timeout of each migration statement (default: the server's)",
        ).argParser(duration('--statement-timeout')),
      )
      .addOption(
        new Option(
          '--retries <n>',
          'try a migration that hit lock_timeout again this many times, with backoff (default 3)',
        ).argParser(wholeNumber('--retries', 0, 100)),
      )
      .addOption(
        new Option(
          '--engine <engine>',
          'who applies the files: pgstore (itself, on its session; the default, or $PGSTORE_MIGRATE_ENGINE) or dbmate (the dbmate binary)',
        ).choices(['pgstore', 'dbmate']),
      );
  }
  return command
    .option(
      '--strict',
      'refuse pending migrations older than the newest applied one, and edited applied files (or DBMATE_STRICT)',
    )
    .option(
      '--wait',
      'keep trying while the server is unreachable (or DBMATE_WAIT; fails at once on a bad password or missing role)',
    )
    .addOption(
      new Option('--wait-timeout <seconds>', 'how long --wait keeps trying')
        .default(60)
        .argParser(wholeNumber('--wait-timeout', 1)),
    );
}

const migrateCore = () => import('../core/migrate/index.js');

function coreOf(io: ActionIO, flags: CommonFlags): MigrateOptions {
  return {
    ...io.core(),
    migrationsDir: flags.migrationsDir,
    set: flags.set as MigrateOptions['set'],
    lock: flags.lock !== false,
    lockTimeoutSeconds: flags.migrationLockTimeout,
    pgLockTimeoutMs: flags.lockTimeout,
    statementTimeoutMs: flags.statementTimeout,
    retries: flags.retries,
    engine: flags.engine as MigrateOptions['engine'],
    strict: !!flags.strict,
    waitTimeoutSeconds: flags.wait ? flags.waitTimeout : undefined,
  };
}

/**
 * As dbmate: the schema file (DBMATE_SCHEMA_FILE, default ./db/schema.sql) is written after `up`
 * and `down` of a project's migrations. A dump that fails is a warning (dbmate ignores it).
 */
async function dumpAfter(io: ActionIO, flags: CommonFlags & { dumpSchema?: boolean }): Promise<string | null> {
  // Nothing to load when no dump can follow (autoDumpSchema would return null at once).
  if (flags.set === 'pgstore' || flags.dumpSchema === false) return null;
  const { autoDumpSchema } = await migrateCore();
  try {
    const path = await autoDumpSchema({
      ...io.core(),
      migrationsDir: flags.migrationsDir,
      set: flags.set as MigrateOptions['set'],
      dumpSchema: flags.dumpSchema,
    });
    if (path) io.log(`Wrote the schema to ${path}`);
    return path;
  } catch (error) {
    io.out.warn(
      `the schema file was not written: ${(error as Error).message} (--no-dump-schema or DBMATE_NO_DUMP_SCHEMA=1 skips it)`,
    );
    return null;
  }
}

function showResult(
  out: Output,
  result: MigrateResult & { schemaFile: string | null },
  verb: 'Applied' | 'Rolled back',
): void {
  const list = verb === 'Applied' ? result.applied : result.rolledBack;
  const seconds = (result.durationMs / 1000).toFixed(2);
  const retried = result.retries.length ? ` after ${result.retries.length} retry(ies) on lock timeout` : '';
  for (const name of result.droppedInvalidIndexes)
    out.warn(`dropped the invalid index ${name} left by a failed CREATE INDEX CONCURRENTLY`);
  if (list.length === 0) {
    out.result(verb === 'Applied' ? `Database ${result.database} is up to date.` : 'Nothing to roll back.');
    return;
  }
  out.result(`${verb} ${plural(list.length, 'migration')} on database ${result.database} in ${seconds} s${retried}:`);
  for (const m of list) out.result(`  ${m.filename} (${m.set})`);
}

function upCommand(ctx: CommandContext): Command {
  const up = withCommonOptions(
    new Command('up').description("apply every pending migration: pgstore's set, then yours (the default)"),
  )
    .option(
      '--no-lint',
      'skip the lint pre-flight of pending files (with --strict, error-level findings refuse the run)',
    )
    .option(
      '--no-dump-schema',
      'do not write the schema file after it (DBMATE_SCHEMA_FILE, default ./db/schema.sql; or DBMATE_NO_DUMP_SCHEMA)',
    )
    .action(
      action(ctx, {
        load: migrateCore,
        call: async (migrate, io, flags: CommonFlags & { lint?: boolean; dumpSchema?: boolean }) => {
          const options = coreOf(io, flags);
          const progress = await migrateProgressFor(io.out);
          const lint = lintBeforeUp(io.out, { lint: flags.lint, strict: options.strict, set: flags.set });
          try {
            const result = await migrate.migrateUp({
              ...options,
              beforeApply: lint.beforeApply,
              progress: progress?.update,
            });
            progress?.done();
            await lint.settle();
            return { ...result, schemaFile: await dumpAfter(io, flags) };
          } finally {
            progress?.done();
            await lint.settle();
          }
        },
        text: (out, result) => showResult(out, result, 'Applied'),
      }),
    );
  return examples(up, [
    'pgstore migrate',
    'pgstore migrate up --wait --strict',
    'pgstore migrate up --migrations-dir db/migrations --lock-timeout 2s --retries 5',
  ]);
}

function downCommand(ctx: CommandContext): Command {
  const down = withCommonOptions(
    new Command('down').description("roll back the newest migration(s) of your set (--set pgstore: pgstore's own)"),
  )
    .addOption(
      new Option('--steps <n>', 'how many to roll back (default 1)')
        .argParser(wholeNumber('--steps', 1))
        .conflicts('to'),
    )
    .option('--to <version>', 'roll back every migration newer than VERSION (0: all)')
    .option('-y, --yes', 'do not ask (needed without a terminal)')
    .option('--force-production', 'allow it on a database marked production')
    .option(
      '--no-dump-schema',
      'do not write the schema file after it (DBMATE_SCHEMA_FILE, default ./db/schema.sql; or DBMATE_NO_DUMP_SCHEMA)',
    )
    .action(
      action(ctx, {
        load: migrateCore,
        call: async (
          migrate,
          io,
          flags: CommonFlags & {
            steps?: number;
            to?: string;
            yes?: boolean;
            forceProduction?: boolean;
            dumpSchema?: boolean;
          },
        ) => {
          const result = await migrate.migrateDown({
            ...coreOf(io, flags),
            steps: flags.steps,
            to: flags.to,
            confirm: confirmer(io.out, !!flags.yes),
            forceProduction: !!flags.forceProduction,
          });
          return { ...result, schemaFile: await dumpAfter(io, flags) };
        },
        text: (out, result) => showResult(out, result, 'Rolled back'),
      }),
    );
  return examples(down, [
    'pgstore migrate down',
    'pgstore migrate down --steps 2 --yes',
    'pgstore migrate down --to 0 --yes --set app',
  ]);
}

/** `migrate status` for people (a table and a line per set) or as ndjson/json (--format). */
async function printStatus(out: Output, result: MigrationStatus, format: string): Promise<void> {
  if (format === 'ndjson')
    return out.ndjson([
      ...result.applied.map((m) => ({ state: 'applied', ...m })),
      ...result.pending.map((m) => ({ state: 'pending', ...m })),
    ]);
  if (format === 'json')
    return out.json({
      sets: result.sets,
      applied: result.applied,
      pending: result.pending,
      drift: result.drift,
    });
  const { renderTable } = await import('../ui/table.js');
  const rows = [
    ...result.applied.map((m) => [m.set, m.version, m.name, out.c.green('applied'), m.appliedAt ?? '']),
    ...result.pending.map((m) => [m.set, m.version, m.name, out.c.yellow('pending'), '']),
  ];
  out.result(
    await renderTable({
      head: ['SET', 'VERSION', 'NAME', 'STATE', 'APPLIED AT'],
      rows,
      color: out.options.color,
    }),
  );
  for (const s of result.sets) {
    out.result(
      `${s.name}: ${s.applied} applied, ${s.pending} pending (${s.present ? s.dir : `no folder ${s.dir}`}; history in ${s.table})`,
    );
  }
  for (const d of result.drift) out.warn(d.message);
  for (const f of result.outOfOrder) out.warn(`${f} is pending but older than the newest applied migration`);
}

function statusCommand(ctx: CommandContext): Command {
  const status = withCommonOptions(
    new Command('status').description('list applied, pending and edited migrations of each set'),
    { changes: false },
  )
    .option('--exit-code', 'exit 1 when migrations are pending or applied files were edited')
    .addOption(
      new Option(
        '--format <format>',
        'json: one document (as --json); ndjson: one migration a line with its state (applied, pending)',
      )
        .choices(['table', 'json', 'ndjson'])
        .default('table'),
    )
    .action(
      action(ctx, {
        load: migrateCore,
        call: (migrate, io, flags: CommonFlags & { exitCode?: boolean; format: string }) =>
          migrate.migrationStatus(coreOf(io, flags)),
        json: (out, result) =>
          out.json({ sets: result.sets, applied: result.applied, pending: result.pending, drift: result.drift }),
        text: (out, result, [flags]) => printStatus(out, result, flags.format),
        exitCode: (result, [flags]) =>
          flags.exitCode && (result.pending.length > 0 || result.drift.length > 0) ? 1 : undefined,
      }),
    );
  return examples(status, [
    'pgstore migrate status',
    'pgstore migrate status --json',
    'pgstore migrate status --exit-code || echo "migrations pending"',
  ]);
}

function verifyCommand(ctx: CommandContext): Command {
  const verify = withCommonOptions(
    new Command('verify').description(
      'check files and database agree: well-formed files, no edited or missing applied files, down sections',
    ),
    { changes: false },
  ).action(
    action(ctx, {
      load: migrateCore,
      call: (migrate, io, flags: CommonFlags) => migrate.verifyMigrations(coreOf(io, flags)),
      json: (out, r) =>
        out.json({
          ok: r.ok,
          problems: r.problems,
          warnings: r.warnings,
          drift: r.drift,
          pending: r.pending,
          sets: r.sets,
        }),
      text: (out, result) => {
        for (const w of result.warnings) out.warn(w);
        for (const p of result.problems) out.error(p);
        const counts = result.sets.map((s) => `${s.name} ${s.applied} applied, ${s.pending} pending`).join('; ');
        out.result(
          result.ok
            ? `Migrations verified: ${counts}.`
            : `Verification failed: ${plural(result.problems.length, 'problem')}.`,
        );
      },
      exitCode: (result) => (result.ok ? undefined : 1),
    }),
  );
  return examples(verify, ['pgstore migrate verify', 'pgstore migrate verify --strict']);
}

function newCommand(ctx: CommandContext): Command {
  const create = new Command('new')
    .description('create a new empty migration file in your folder (the one `migrate up` applies)')
    .argument('<name>', 'what the migration does, e.g. add_user_avatar')
    .option(
      '--migrations-dir <dir>',
      'where to create it (default: $DBMATE_MIGRATIONS_DIR, then ./db/migrations)',
      creatableFolder('--migrations-dir'),
    )
    .action(
      action(ctx, {
        load: migrateCore,
        call: (migrate, io, name: string, flags: { migrationsDir?: string }) =>
          migrate.newMigration({ migrationsDir: flags.migrationsDir, env: io.env, name }),
        json: (out, path) => out.json({ path, set: 'app' }),
        text: (out, path) => out.result(`Created ${path} (app set)`),
      }),
    );
  return examples(create, [
    'pgstore migrate new add_user_avatar',
    'pgstore migrate new backfill_slugs --migrations-dir db/migrations',
  ]);
}

function dumpCommand(ctx: CommandContext): Command {
  const dump = new Command('dump')
    .description('write the database schema (pg_dump --schema-only) and the applied versions to a file')
    .option(
      '-o, --output <file>',
      'where to write it (default: $DBMATE_SCHEMA_FILE, then schema.sql)',
      outputFile('--output'),
    )
    .action(
      action(ctx, {
        load: migrateCore,
        call: (migrate, io, flags: { output?: string }) =>
          migrate.dumpSchema({
            ...io.core(),
            output: flags.output ?? (io.env.DBMATE_SCHEMA_FILE?.trim() || 'schema.sql'),
          }),
        json: (out, result) =>
          out.json({ path: result.path, sizeBytes: result.bytes, migrationsApplied: result.migrations }),
        text: (out, result) =>
          out.result(`Wrote ${result.path} (${result.bytes} bytes, ${plural(result.migrations, 'applied migration')})`),
      }),
    );
  return examples(dump, ['pgstore migrate dump', 'pgstore migrate dump -o db/schema.sql']);
}

/** `only`: the subcommand this run names, the one built in full (subcommands.ts). */
export function migrateCommand(ctx: CommandContext, only?: string): Command {
  const migrate = new Command('migrate').description(
    "apply and inspect migrations: pgstore's own set and yours (dbmate underneath, with a lock, checks, checksums and lock timeouts)",
  );
  addSubcommands(
    migrate,
    [
      { name: 'up', build: () => upCommand(ctx), isDefault: true },
      { name: 'down', build: () => downCommand(ctx) },
      { name: 'status', build: () => statusCommand(ctx) },
      { name: 'verify', build: () => verifyCommand(ctx) },
      { name: 'new', build: () => newCommand(ctx) },
      { name: 'dump', build: () => dumpCommand(ctx) },
      { name: 'lint', build: () => lintCommand(ctx) },
      { name: 'plan', build: () => planCommand(ctx) },
      { name: 'diff', build: () => diffCommand(ctx) },
    ],
    only,
  );
  return examples(migrate, ['pgstore migrate', 'pgstore migrate status --json', 'pgstore migrate down --yes']);
}
