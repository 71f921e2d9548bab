/**
 * `pgstore backup` (take one) and `pgstore backup list | verify | prune | delete`: one
 * factory per subcommand; `backupCommand` registers them under its own action.
 */
import { Command, Option } from 'commander';
import type { BackupResult } from '../core/backup/index.js';
import type { Output } from '../ui/output.js';
import { manifestJson, physicalTakeJson } from '../ui/json-views.js';
import { withProgressBar } from '../ui/progress-sink.js';
import { backupListCommand } from './backup-list.js';
import { deleteCommand, pruneCommand, verifyCommand } from './backup-manage.js';
import { backupCore, dirOption } from './backup-where.js';

type BackupCore = Awaited<ReturnType<typeof backupCore>>;
import { action, type ActionIO, type CommandContext, examples } from './context.js';
import { MAX_JOBS, outputFile, wholeNumber } from './parse.js';
import { addRetentionOptions, type RetentionFlags, retentionFrom } from './retention-flags.js';
import type { StandbyFlags } from './backup-physical.js';
import { formatBytes, plural } from '../util/format.js';

function describeBackup(out: Output, r: BackupResult): void {
  const m = r.manifest;
  const rows = m.tables.reduce((sum, t) => sum + t.rows, 0);
  const verified = m.verified ? `, verified (${m.verified.method})` : '';
  out.result(`Backed up ${r.database} to ${r.path}`);
  // The time waited; with a verification, its part and the dump's too (the manifest keeps the dump's).
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const parts =
    r.verifyDurationMs === null ? '' : ` (dump ${seconds(m.durationMs)}, verification ${seconds(r.verifyDurationMs)})`;
  out.result(
    `  ${formatBytes(m.sizeBytes)}, ${m.format} (${m.compression}), ${plural(m.tables.length, 'table')}, ${plural(rows, 'row')}, ${seconds(r.durationMs)}${parts}${verified}`,
  );
  if (r.retention) {
    const removed = r.retention.removed;
    out.result(
      `  retention: kept ${r.retention.kept.length}, removed ${removed.length}${removed.length ? ` (${removed.join(', ')})` : ''}`,
    );
    for (const d of r.retention.damaged)
      out.warn(`damaged backup ${d.id} was neither counted nor deleted: ${d.problem}`);
  }
  if (r.leftoversRemoved.length) out.info(`Removed leftovers of interrupted runs: ${r.leftoversRemoved.join(', ')}`);
}

type BackupFlags = {
  dir?: string;
  format: 'custom' | 'directory' | 'plain';
  jobs?: number;
  compress?: string;
  label?: string;
  verify?: 'read' | 'restore' | true;
  metricsFile?: string;
  engine?: string;
  type?: 'full' | 'diff' | 'incr';
} & StandbyFlags &
  RetentionFlags;

function backupOptions(ctx: CommandContext, command: Command): Command {
  return command
    .addOption(dirOption(ctx))
    .addOption(
      new Option('--format <format>', 'custom, directory (allows --jobs) or plain SQL')
        .choices(['custom', 'directory', 'plain'])
        .default('custom'),
    )
    .addOption(
      new Option('--jobs <n>', 'parallel pg_dump jobs (directory format only)').argParser(
        wholeNumber('--jobs', 1, MAX_JOBS),
      ),
    )
    .option(
      '--compress <method[:level]>',
      "gzip[:1-9] (pg_dump's default: gzip for custom/directory, none for plain), lz4, zstd (pg_dump 16+), none",
    )
    .option('--label <label>', 'appended to the backup ID, e.g. nightly')
    .addOption(
      new Option(
        '--verify [method]',
        'after writing: read (checksums + read the whole archive back) or restore (also a test restore into a scratch database); bare --verify means read',
      ).choices(['read', 'restore']),
    )
    .option(
      '--metrics-file <file>',
      'write Prometheus textfile metrics here (success or failure)',
      outputFile('--metrics-file'),
    )
    .addOption(
      new Option(
        '--engine <engine>',
        'pg_dump (a logical dump of the database; default, or PGSTORE_BACKUP_ENGINE), pgbackrest (the whole cluster, with WAL archiving), or basebackup (embedded server: pg_basebackup + WAL archived by basic_archive)',
      ).choices(['pg_dump', 'pgbackrest', 'basebackup']),
    )
    .addOption(
      new Option('--type <type>', 'with --engine pgbackrest: full (default), diff or incr').choices([
        'full',
        'diff',
        'incr',
      ]),
    )
    .option(
      '--backup-standby',
      "with --engine pgbackrest: copy the files from a standby on this host (pgBackRest's backup-standby); the primary still starts and stops the backup",
    )
    .option('--standby-url <url>', 'with --backup-standby: the standby (default: DATABASE_REPLICA_URL, its first URL)')
    .option(
      '--standby-data-dir <dir>',
      "with --backup-standby: the standby's data folder (default: the standby's own data_directory)",
    );
}

/** A pg_dump backup, or a physical one through another engine (its flags checked against the engine). */
async function takeBackup(backup: BackupCore, io: ActionIO, flags: BackupFlags, cmd: Command) {
  const physical = await import('./backup-physical.js');
  const engine = physical.engineOf(flags.engine, io.env);
  if (engine !== 'pg_dump') {
    const format = cmd.getOptionValueSource('format') === 'cli' ? flags.format : undefined;
    const keeps = Object.entries(flags)
      .filter(([k]) => k.startsWith('keep'))
      .map(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);
    physical.refuseFlags(engine, {
      '--format': format,
      '--jobs': flags.jobs,
      '--compress': flags.compress,
      '--label': flags.label,
      '--verify': flags.verify,
      ...Object.fromEntries(keeps),
      '--metrics-file': flags.metricsFile,
      ...(engine === 'basebackup' ? { '--type': flags.type, ...physical.standbyFlags(flags) } : {}),
    });
    return { physical: await physical.physicalBackup(io, engine, flags) };
  }
  physical.refuseFlags(engine, { '--type': flags.type, ...physical.standbyFlags(flags) });
  const retention = await retentionFrom(flags);
  return withProgressBar(io.out, (onProgress) =>
    backup.backup({
      ...io.core(),
      dir: flags.dir,
      format: flags.format,
      jobs: flags.jobs,
      compress: flags.compress,
      label: flags.label,
      verify: flags.verify === true ? 'read' : flags.verify,
      retention,
      metricsFile: flags.metricsFile,
      onProgress,
    }),
  );
}

export function backupCommand(ctx: CommandContext): Command {
  const command = backupOptions(
    ctx,
    new Command('backup').description(
      'back up the database (pg_dump): checksummed, written atomically, optionally verified and pruned',
    ),
  ).action(
    action(ctx, {
      load: backupCore,
      call: takeBackup,
      json: (out, result) =>
        out.json(
          'physical' in result
            ? physicalTakeJson(result.physical.result)
            : { ...result, manifest: manifestJson(result.manifest) },
        ),
      text: (out, result) => ('physical' in result ? result.physical.describe(out) : describeBackup(out, result)),
    }),
  );
  addRetentionOptions(command, 'after a successful backup, ');
  // backup's own options (--format: pg_dump's format, --dir, --keep-*...) are read only before a
  // subcommand's name: `backup list --format ndjson` is list's --format, not pg_dump's.
  command.enablePositionalOptions();
  for (const make of [backupListCommand, verifyCommand, pruneCommand, deleteCommand]) command.addCommand(make(ctx));
  return examples(command, [
    'pgstore backup',
    'pgstore backup --verify --keep-daily 7 --keep-weekly 4 --quiet --metrics-file /var/lib/node_exporter/pgstore.prom',
    'pgstore backup --format directory --jobs 4 --compress gzip:1 --label nightly',
    'PGSTORE_BACKUP_DIR=/srv/backups pgstore backup --verify=restore --keep-last 14',
  ]);
}
