/**
 * `pgstore backup` (take one) and `pgstore backup list | verify | prune | delete`: one
 * factory per subcommand; `backupCommand` registers them under its own action.
 */
import { Command, Option } from 'commander';
import type { BackupEntry, BackupListing, BackupResult } from '../core/backup/index.js';
import type { PhysicalBackup } from '../core/backup/pgbackrest/index.js';
import { confirmer } from '../ui/confirm.js';
import type { Output } from '../ui/output.js';
import { manifestJson, physicalBackupJson, physicalTakeJson } from '../ui/json-views.js';
import { withProgressBar } from '../ui/progress-sink.js';
import { action, type ActionIO, backupDirHelp, type CommandContext, examples } from './context.js';
import { creatableFolder, MAX_JOBS, outputFile, wholeNumber } from './parse.js';
import { addRetentionOptions, type RetentionFlags, retentionFrom } from './retention-flags.js';
import type { StandbyFlags } from './backup-physical.js';
import { formatBytes, plural } from '../util/format.js';

const backupCore = () => import('../core/backup/index.js');
const dirOption = (ctx: CommandContext) =>
  new Option('--dir <dir>', backupDirHelp(ctx.env, 'backup folder')).argParser(creatableFolder('--dir'));
const dbOption = () => new Option('--database <name>', "whose backups (default: the connection's database)");

/** Whose backups, where: --dir, and --database, else the connection's database (resolved only then). */
function whereOf(io: ActionIO, command: Command): { env: ActionIO['env']; dir: string | undefined; database: string } {
  const o = command.optsWithGlobals() as { dir?: string; database?: string };
  return { env: io.env, dir: o.dir, database: o.database ?? io.ctx.target().database };
}

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

/** Intact, damaged and physical backups in one list, newest first (each sorts by its time). */
function listingRows(listing: BackupListing & { physical: PhysicalBackup[] }) {
  return [
    ...listing.backups.map((b) => ({
      at: b.manifest.startedAt,
      id: b.id,
      intact: b,
      damaged: undefined,
      physical: undefined,
    })),
    ...listing.damaged.map((d) => ({ at: d.startedAt, id: d.id, intact: undefined, damaged: d, physical: undefined })),
    ...listing.physical.map((p) => ({ at: p.startedAt, id: p.id, intact: undefined, damaged: undefined, physical: p })),
  ].sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id));
}

/** A pg_dump backup in `backup list --json`: its manifest, without the files and tables (their counts). */
function listedDump(b: BackupEntry) {
  const { files, tables, ...manifest } = b.manifest;
  return {
    ...manifest,
    engine: 'pg_dump',
    type: 'logical',
    status: 'ok',
    path: b.path,
    tableCount: tables.length,
    fileCount: files.length,
  };
}

function listRow(b: BackupEntry): Array<string | number> {
  const m = b.manifest;
  return [
    b.id,
    m.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    formatBytes(m.sizeBytes),
    m.format,
    m.tables.length,
    m.tables.reduce((s, t) => s + t.rows, 0),
    m.verified ? m.verified.method : 'no',
  ];
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

/** One JSON object per listed backup, newest first (the same for --json, --format json and ndjson). */
function listingJson(listing: Parameters<typeof listingRows>[0]) {
  return listingRows(listing).map((r) =>
    r.physical
      ? { ...physicalBackupJson(r.physical), status: 'ok' }
      : r.intact
        ? listedDump(r.intact)
        : {
            id: r.damaged!.id,
            database: r.damaged!.database,
            engine: 'pg_dump',
            status: 'damaged',
            problem: r.damaged!.problem,
            path: r.damaged!.path,
            startedAt: r.damaged!.startedAt,
          },
  );
}

function listCommand(ctx: CommandContext): Command {
  const command = new Command('list')
    .description(
      'list backups, newest first: complete ones, and damaged ones marked as such (partial ones never appear)',
    )
    .addOption(dirOption(ctx))
    .addOption(dbOption())
    .addOption(
      new Option('--format <format>', 'json: one document (as --json); ndjson: one JSON object a line')
        .choices(['table', 'json', 'ndjson'])
        .default('table'),
    )
    .action(
      action(ctx, {
        load: backupCore,
        call: async (backup, io, _flags: { format: 'table' | 'json' | 'ndjson' }, cmd: Command) => {
          const listing = backup.listDatabaseBackups(whereOf(io, cmd));
          // pgBackRest's backups (of the whole cluster) are listed beside the dumps, with their type.
          const physical = await (await import('./backup-physical.js')).physicalRows(io, listing.dir);
          return { ...listing, physical };
        },
        // Damaged backups appear in every listing, JSON included, where they would sort by time.
        json: (out, listing) => out.json(listingJson(listing)),
        text: async (out, listing, [flags]) => {
          if (flags.format === 'json') return out.json(listingJson(listing));
          if (flags.format === 'ndjson') return out.ndjson(listingJson(listing));
          const rows = listingRows(listing);
          for (const d of listing.damaged) out.warn(`backup ${d.id} is damaged: ${d.problem}`);
          if (rows.length === 0) return out.result(`No backups of ${listing.database} in ${listing.dir}.`);
          const { renderTable } = await import('../ui/table.js');
          const when = (at: string) => at.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
          const table = rows.map((r) =>
            r.physical
              ? [
                  r.id,
                  when(r.at),
                  formatBytes(r.physical.sizeBytes),
                  `${r.physical.engine} ${r.physical.type}`,
                  '-',
                  '-',
                  '-',
                ]
              : r.intact
                ? listRow(r.intact)
                : [r.id, when(r.at), '-', '-', '-', '-', 'DAMAGED'],
          );
          out.result(
            await renderTable({
              head: ['ID', 'STARTED (UTC)', 'SIZE', 'FORMAT', 'TABLES', 'ROWS', 'VERIFIED'],
              rows: table,
              color: out.options.color,
            }),
          );
          out.result(
            `${plural(listing.backups.length, 'backup')} of ${listing.database} in ${listing.dir}${listing.damaged.length ? `, and ${listing.damaged.length} damaged` : ''}${listing.physical.length ? `; ${plural(listing.physical.length, 'physical backup')} of the cluster` : ''}`,
          );
        },
      }),
    );
  return examples(command, [
    'pgstore backup list',
    'pgstore backup list --json',
    'pgstore backup list --database app --dir /srv/backups',
    'pgstore backup list --format ndjson | jq -r .id',
  ]);
}

function verifyCommand(ctx: CommandContext): Command {
  const command = new Command('verify')
    .description('check a backup: checksums and a full read-back, or a test restore into a scratch database')
    .argument('<id>', 'a backup ID, <database>/<ID>, or latest')
    .addOption(
      new Option('--method <method>', 'read, or restore (needs CREATEDB)').choices(['read', 'restore']).default('read'),
    )
    .addOption(dirOption(ctx))
    .addOption(dbOption())
    .action(
      action(ctx, {
        load: backupCore,
        call: (backup, io, id: string, flags: { method: 'read' | 'restore' }, cmd: Command) =>
          withProgressBar(io.out, (onProgress) =>
            backup.verifyBackup({
              ...whereOf(io, cmd),
              log: io.log,
              target: flags.method === 'restore' ? ctx.target() : undefined,
              id,
              method: flags.method,
              onProgress,
            }),
          ),
        json: (out, { backup, manifest }) =>
          out.json({
            id: backup.id,
            database: backup.database,
            path: backup.path,
            ok: true,
            verified: manifest.verified,
          }),
        text: (out, { backup }, [, flags]) =>
          out.result(
            `Backup ${backup.database}/${backup.id} is intact (${flags.method === 'restore' ? 'checksums, read-back and a test restore with matching row counts' : 'checksums and a full read-back'}).`,
          ),
      }),
    );
  return examples(command, [
    'pgstore backup verify latest',
    'pgstore backup verify 20260102T020000.123Z-nightly --method restore',
  ]);
}

function pruneCommand(ctx: CommandContext): Command {
  const command = new Command('prune')
    .description('delete old backups (never the newest verified one)')
    .option('--dry-run', 'only show what would be deleted, and which rule keeps each backup')
    .addOption(dirOption(ctx))
    .addOption(dbOption())
    .action(
      action(ctx, {
        load: backupCore,
        call: async (backup, io, _flags: unknown, cmd: Command) => {
          // optsWithGlobals: prune's own --keep-* flags, or `backup`'s given before `prune`.
          const flags = cmd.optsWithGlobals() as RetentionFlags & { dryRun?: boolean };
          return backup.pruneBackups({ ...whereOf(io, cmd), ...(await retentionFrom(flags)), dryRun: !!flags.dryRun });
        },
        text: (out, result) => {
          if (result.dryRun) {
            for (const k of result.kept) out.result(`keep    ${k.id}  ${k.reasons.join('; ')}`);
            for (const id of result.removed) out.result(`delete  ${id}  no rule keeps it`);
          }
          const verb = result.dryRun ? 'Would delete' : 'Deleted';
          out.result(
            result.removed.length
              ? `${verb} ${plural(result.removed.length, 'backup')} of ${result.database}: ${result.removed.join(', ')}`
              : `Nothing to delete: ${plural(result.kept.length, 'backup')} of ${result.database} kept.`,
          );
          if (result.removed.length) out.result(`Kept ${result.kept.length}.`);
          for (const d of result.damaged)
            out.warn(
              `damaged backup ${d.id} was neither counted nor deleted: ${d.problem} (look at it, then \`pgstore backup delete ${d.id}\`)`,
            );
        },
      }),
    );
  addRetentionOptions(command, '');
  return examples(command, [
    'pgstore backup prune --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run',
    'pgstore backup prune --keep-last 10 --keep-within 2w',
  ]);
}

function deleteCommand(ctx: CommandContext): Command {
  const command = new Command('delete')
    .description('delete one backup (asks on a terminal; --yes without one)')
    .argument('<id>', 'a backup ID or <database>/<ID>')
    .option('-y, --yes', 'do not ask')
    .addOption(dirOption(ctx))
    .addOption(dbOption())
    .action(
      action(ctx, {
        load: backupCore,
        call: async (backup, io, id: string, flags: { yes?: boolean }, cmd: Command) => {
          const where = whereOf(io, cmd);
          const { dir, database } = backup.listDatabaseBackups(where);
          const entry = backup.findBackupFolder(dir, database, id);
          await confirmer(
            io.out,
            !!flags.yes,
          )({
            action: `delete backup ${entry.database}/${entry.id}`,
            target: entry.path,
            environment: null,
            details: [],
          });
          return backup.deleteBackup({ ...where, id });
        },
        text: (out, result) => out.result(`Deleted backup ${result.database}/${result.id}.`),
      }),
    );
  return examples(command, ['pgstore backup delete 20260102T020000.123Z --yes']);
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
      call: async (backup, io, flags: BackupFlags, cmd: Command) => {
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
      },
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
  for (const make of [listCommand, verifyCommand, pruneCommand, deleteCommand]) command.addCommand(make(ctx));
  return examples(command, [
    'pgstore backup',
    'pgstore backup --verify --keep-daily 7 --keep-weekly 4 --quiet --metrics-file /var/lib/node_exporter/pgstore.prom',
    'pgstore backup --format directory --jobs 4 --compress gzip:1 --label nightly',
    'PGSTORE_BACKUP_DIR=/srv/backups pgstore backup --verify=restore --keep-last 14',
  ]);
}
