/**
 * `pgstore setup` and `pgstore reset`.
 */
import { Command, Option } from 'commander';
import type { SetupOptions, SetupResult } from '../core/setup/index.js';
import { confirmer } from '../ui/confirm.js';
import type { Output } from '../ui/output.js';
import { migrateProgressFor } from '../ui/progress-sink.js';
import { describeSeed } from '../ui/seed-view.js';
import { action, type ActionIO, backupDirHelp, type CommandContext, examples } from './context.js';
import { creatableFolder, existingFolder, wholeNumber } from './parse.js';
import { plural } from '../util/format.js';

interface SetupFlags {
  env: SetupOptions['environment'];
  ownerRole?: string;
  appRole?: string;
  migrationsDir?: string;
  lockTimeout: number;
  lock: boolean;
  seed?: boolean;
  forceProduction?: boolean;
}

function setupOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--env <name>', 'mark the database as development, test or production').choices([
        'development',
        'test',
        'production',
      ]),
    )
    .option('--owner-role <name>', 'the role that owns the database and its objects (default: <database>_owner)')
    .option('--app-role <name>', "the application's login role, data access only (default: <database>_app)")
    .option(
      '--migrations-dir <dir>',
      "your application's migrations, applied after pgstore's own (default: $DBMATE_MIGRATIONS_DIR, then ./db/migrations)",
      existingFolder('--migrations-dir', 'migrations folder'),
    )
    .option('--seed', 'then load the built-in data set (development, or test with --env test)')
    .option('--force-production', 'allow reset and --seed on a database marked production')
    .option('--no-lock', 'do not take the migration lock')
    .addOption(
      new Option('--lock-timeout <seconds>', 'wait this long for the migration lock')
        .default(300)
        .argParser(wholeNumber('--lock-timeout')),
    );
}

const setupCore = () => import('../core/setup/index.js');

function coreOf(io: ActionIO, flags: SetupFlags): SetupOptions {
  return {
    ...io.core(),
    environment: flags.env,
    ownerRole: flags.ownerRole,
    appRole: flags.appRole,
    migrationsDir: flags.migrationsDir,
    lock: flags.lock !== false,
    lockTimeoutSeconds: flags.lockTimeout,
    seed: !!flags.seed,
    forceProduction: !!flags.forceProduction,
  };
}

/** The people's summary of a setup run. */
export function describeSetup(out: Output, result: SetupResult): void {
  const seconds = (result.durationMs / 1000).toFixed(2);
  if (!result.changed) {
    out.result(`Nothing to do: ${result.target} is set up (${result.environment}), ${seconds} s.`);
    if (result.seeded) describeSeed(out, { kind: 'fixtures', result: result.seeded });
    return;
  }
  out.result(`Set up ${result.target} in ${seconds} s:`);
  out.result(`  database     ${result.database}${result.databaseCreated ? ' (created)' : ''}`);
  for (const role of result.roles)
    out.result(
      `  ${role.purpose === 'owner' ? 'owner role ' : 'app role   '}  ${role.name}${role.created ? ' (created)' : ''}`,
    );
  if (result.extensionsCreated.length) out.result(`  extensions   ${result.extensionsCreated.join(', ')} (created)`);
  out.result(`  migrations   ${result.migrationsApplied.length} applied`);
  out.result(`  environment  ${result.environment}${result.environmentChanged ? ' (marked)' : ''}`);
  if (result.appPassword) {
    const app = result.roles.find((r) => r.purpose === 'application')!.name;
    out.essential(
      `${out.options.quiet ? '' : '\n'}Password for ${app} (shown once; store it now): ${result.appPassword}`,
    );
  } else if (result.appPasswordSource === 'PGSTORE_APP_PASSWORD') {
    out.result('  (the application role got its password from PGSTORE_APP_PASSWORD)');
  }
  if (result.seeded) describeSeed(out, { kind: 'fixtures', result: result.seeded });
}

export function setupCommand(ctx: CommandContext): Command {
  const command = setupOptions(
    new Command('setup').description(
      'create the database, its owner and application roles and extensions; migrate; mark the environment',
    ),
  )
    .option(
      '--print-citus-plan',
      'print the create_reference_table / create_distributed_table calls for Citus, in foreign-key order; changes nothing',
    )
    .action(
      action(ctx, {
        load: setupCore,
        call: async (setup, io, flags: SetupFlags & { printCitusPlan?: boolean }) => {
          if (!flags.printCitusPlan) {
            // The migrations it applies report progress as `migrate up`'s do (--progress).
            const progress = await migrateProgressFor(io.out);
            try {
              return {
                kind: 'setup' as const,
                setup: await setup.setup({ ...coreOf(io, flags), progress: progress?.update }),
              };
            } finally {
              progress?.done();
            }
          }
          const plan = await setup.citusPlan(io.core());
          return { kind: 'citus' as const, plan, script: setup.citusPlanScript(plan) };
        },
        json: (out, r) => out.json(r.kind === 'setup' ? r.setup : r.plan),
        text: (out, r) =>
          r.kind === 'setup' ? describeSetup(out, r.setup) : r.script.forEach((line) => out.result(line)),
      }),
    );
  return examples(command, [
    'pgstore setup',
    'pgstore setup --seed',
    'pgstore setup --env test --json',
    'pgstore setup --print-citus-plan',
    'PGSTORE_APP_PASSWORD=... pgstore setup -d postgres://admin@db.internal/app --env production',
  ]);
}

export function resetCommand(ctx: CommandContext): Command {
  const command = setupOptions(
    new Command('reset').description('drop and recreate the database (asks first), then set it up again'),
  )
    .option('--schemas-only', "drop only pgstore's schemas (auth, tenancy, hosts, pgstore), not the database")
    .option('-y, --yes', 'do not ask (needed without a terminal)')
    .option('--force', 'terminate other sessions connected to the database')
    .option('--backup-first', 'take a verified backup (pgstore backup, label before-reset) before dropping anything')
    .option(
      '--backup-dir <dir>',
      backupDirHelp(ctx.env, 'where --backup-first writes'),
      creatableFolder('--backup-dir'),
    )
    .action(
      action(ctx, {
        load: setupCore,
        call: (
          setup,
          io,
          flags: SetupFlags & {
            schemasOnly?: boolean;
            yes?: boolean;
            force?: boolean;
            forceProduction?: boolean;
            backupFirst?: boolean;
            backupDir?: string;
          },
        ) =>
          setup.reset({
            ...coreOf(io, flags),
            schemasOnly: !!flags.schemasOnly,
            force: !!flags.force,
            forceProduction: !!flags.forceProduction,
            confirm: confirmer(io.out, !!flags.yes),
            backupFirst: !!flags.backupFirst,
            backupDir: flags.backupDir,
          }),
        text: (out, result) => {
          if (result.backup) out.result(`Backed up to ${result.backup.path} first.`);
          out.result(
            `Dropped the ${result.dropped === 'database' ? 'database' : 'pgstore schemas'}${result.terminatedSessions ? ` (terminated ${plural(result.terminatedSessions, 'session')})` : ''}.`,
          );
          describeSetup(out, result.setup);
        },
      }),
    );
  return examples(command, [
    'pgstore reset',
    'pgstore reset --yes --seed',
    'pgstore reset --schemas-only --yes --force',
  ]);
}
