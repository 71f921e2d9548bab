/**
 * `pgstore restore [ID | PATH | latest]`.
 */
import { Command, Option } from 'commander';
import type { RestoreResult } from '../core/restore/index.js';
import { UsageError } from '../errors.js';
import { confirmer } from '../ui/confirm.js';
import type { Output } from '../ui/output.js';
import { physicalRestoreJson } from '../ui/json-views.js';
import { withProgressBar } from '../ui/progress-sink.js';
import { physicalRestoreOptions } from './backup-physical.js';
import { action, type ActionIO, backupDirHelp, type CommandContext, examples } from './context.js';
import { creatableFolder, existingFolder, MAX_JOBS, wholeNumber } from './parse.js';
import { plural } from '../util/format.js';

interface RestoreFlags {
  dir?: string;
  targetDb?: string;
  create?: boolean;
  clean?: boolean;
  jobs?: number;
  yes?: boolean;
  force?: boolean;
  forceProduction?: boolean;
  owner?: boolean;
  migrationsDir?: string;
  skipDamaged?: boolean;
  engine?: string;
  toTime?: string;
  dataDir?: string;
  port?: number;
  set?: string;
}

function describeRestore(out: Output, r: RestoreResult): void {
  const how = { created: 'created', 'in place': 'was empty', replaced: 'replaced' }[r.mode];
  out.result(
    `Restored ${r.source.id ?? r.source.path} into ${r.target} (${how}) in ${(r.durationMs / 1000).toFixed(1)} s.`,
  );
  out.result(
    `  checksums    ${r.source.checksums === 'verified' ? 'verified before the restore' : 'none (not a pgstore backup)'}`,
  );
  if (r.rowCountsMatch === null) out.result('  row counts   not compared (no manifest)');
  else
    out.result(
      `  row counts   ${plural(r.tables.length, 'table')}, ${plural(
        r.tables.reduce((s, t) => s + (t.actual ?? 0), 0),
        'row',
      )}, all as in the backup`,
    );
  const m = r.migrations;
  if (!m.tracked) out.result('  migrations   none recorded (no schema_migrations table)');
  else {
    const same =
      m.backupNewest === null
        ? ''
        : m.newest === m.backupNewest
          ? ', as in the backup'
          : `, the backup recorded ${m.backupNewest}`;
    out.result(
      `  migrations   ${m.applied} applied, newest ${m.newest}${same}${m.pending === null ? '' : `; ${m.pending} pending`}`,
    );
  }
  if (r.leftovers.dropped.length)
    out.result(`  leftovers    dropped ${r.leftovers.dropped.join(', ')} (an interrupted restore's copy)`);
  for (const name of r.leftovers.kept) {
    out.warn(
      `kept ${name}: what ${r.database} held before a restore swapped it out (an interrupted one, or objects created during it); drop it when no longer needed: DROP DATABASE "${name}"`,
    );
  }
  if (r.owners.kept) out.result('  owners       as in the backup');
  else if (r.owners.unusableRoles.length === 0) out.result('  owners       the restoring role (--no-owner)');
  else {
    out.warn(
      `owners not restored: the restoring role cannot give objects to ${r.owners.unusableRoles.join(', ')} (missing, or not a member); what they owned belongs to the restoring role. Create the roles and restore again, or pass --no-owner to silence this`,
    );
  }
  if (r.missingRoles.length)
    out.warn(`privileges for roles missing on the target were skipped: ${r.missingRoles.join(', ')}`);
}

/** A database name one can restore into: not empty, not template0 (it accepts no connections). */
function targetDatabase(raw: string): string {
  if (raw.trim() === '')
    throw new UsageError("--target-db '' is empty", {
      hint: "Name a database, or leave --target-db out for the connection's.",
    });
  if (raw === 'template0') {
    throw new UsageError('--target-db template0: PostgreSQL keeps template0 pristine; it accepts no connections', {
      hint: 'Restore into another database, e.g. --target-db app_copy --create.',
    });
  }
  return raw;
}

type RestoreCore = typeof import('../core/restore/index.js');

/** A logical restore (pg_dump archives), with the progress bar and the question before a swap. */
function restoreLogical(core: RestoreCore, io: ActionIO, source: string, flags: RestoreFlags) {
  return withProgressBar(io.out, (onProgress, barDone) => {
    const ask = confirmer(io.out, !!flags.yes);
    return core.restore({
      ...io.core(),
      source,
      dir: flags.dir,
      targetDb: flags.targetDb,
      create: !!flags.create,
      clean: !!flags.clean,
      jobs: flags.jobs,
      owners: flags.owner === undefined ? 'auto' : flags.owner ? 'keep' : 'drop',
      force: !!flags.force,
      forceProduction: !!flags.forceProduction,
      migrationsDir: flags.migrationsDir,
      skipDamaged: !!flags.skipDamaged,
      confirm: async (plan) => {
        barDone(); // the question goes on the bar's line
        await ask(plan);
      },
      onProgress,
    });
  });
}

/** A pg_dump restore, or a physical one through another engine (its flags checked against the engine). */
async function restoreCall(core: RestoreCore, io: ActionIO, source: string, flags: RestoreFlags, cmd: Command) {
  const physical = await import('./backup-physical.js');
  const engine = physical.engineOf(flags.engine, io.env);
  if (engine !== 'pg_dump') {
    physical.refuseFlags(engine, {
      '[source]': cmd.args.length ? source : undefined,
      '--target-db': flags.targetDb,
      '--create': flags.create,
      '--clean': flags.clean,
      '--jobs': flags.jobs,
      '--skip-damaged': flags.skipDamaged,
      '--migrations-dir': flags.migrationsDir,
    });
    return { physical: await physical.physicalRestore(io, engine, flags) };
  }
  physical.refuseFlags(engine, {
    '--to-time': flags.toTime,
    '--data-dir': flags.dataDir,
    '--port': flags.port,
    '--set': flags.set,
  });
  return restoreLogical(core, io, source, flags);
}

/** restore's own options (the physical engines' are added by physicalRestoreOptions). */
function withRestoreOptions(ctx: CommandContext, command: Command): Command {
  return command
    .option('--dir <dir>', backupDirHelp(ctx.env, 'where backup IDs are looked up'), creatableFolder('--dir'))
    .option('--target-db <name>', "the database to restore into (default: the connection's)", targetDatabase)
    .option('--create', 'create the target database if it does not exist')
    .option('--clean', 'replace a non-empty target: restore into a copy, check it, then swap it in (asks first)')
    .addOption(
      new Option('--jobs <n>', 'parallel pg_restore jobs (custom/directory; default 1 = one transaction)').argParser(
        wholeNumber('--jobs', 1, MAX_JOBS),
      ),
    )
    .option('-y, --yes', 'do not ask (needed for --clean without a terminal)')
    .option('--force', 'with --clean: terminate sessions connected to the target when swapping')
    .option('--force-production', 'allow --clean on a database marked production')
    .option(
      '--owner',
      "keep the dump's object owners, or fail before restoring if one cannot be used (default: kept when all can be)",
    )
    .option('--no-owner', 'objects belong to the restoring role, whatever the dump says')
    .option(
      '--migrations-dir <dir>',
      "count pending migrations against this folder (default: pgstore's own)",
      existingFolder('--migrations-dir', 'migrations folder'),
    )
    .option(
      '--skip-damaged',
      'with latest: pass over damaged backups newer than the newest intact one (default: refuse, naming them)',
    );
}

export function restoreCommand(ctx: CommandContext): Command {
  const command = new Command('restore')
    .description('restore a backup (or a pg_dump file) after verifying its checksums; stops at the first error')
    .argument(
      '[source]',
      'latest, a backup ID, <database>/<ID>, a backup folder, or a dump file (.dump, .sql, .sql.gz)',
      'latest',
    );
  physicalRestoreOptions(withRestoreOptions(ctx, command)).action(
    action(ctx, {
      load: () => import('../core/restore/index.js'),
      call: restoreCall,
      json: (out, result) => out.json('physical' in result ? physicalRestoreJson(result.physical.result) : result),
      text: (out, result) => ('physical' in result ? result.physical.describe(out) : describeRestore(out, result)),
    }),
  );
  return examples(command, [
    'pgstore restore latest --target-db app_copy --create',
    'pgstore restore 20260102T020000.123Z-nightly --clean --yes',
    'pgstore restore /srv/backups/app/20260102T020000.123Z --target-db app_check --create --jobs 4',
    'pgstore restore pagila.sql --target-db pagila --create',
  ]);
}
