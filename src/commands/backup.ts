/**
 * `pgstore backup` (take one) and `pgstore backup list | verify | prune | delete`: one
 * factory per subcommand; `backupCommand` registers them under its own action.
 */
import { Command, Option } from 'commander';
import type { BackupEntry, BackupListing, BackupResult } from '../core/backup/index.js';
import { confirmer } from '../ui/confirm.js';
import type { Output } from '../ui/output.js';
import { withProgressBar } from '../ui/progress-sink.js';
import { action, type ActionIO, type CommandContext, examples } from './context.js';
import { creatableFolder, decimalNumber, MAX_JOBS, outputFile, wholeNumber } from './parse.js';
import { formatBytes } from '../util/format.js';

const DIR_HELP = 'backup folder (else PGSTORE_BACKUP_DIR, else $PGSTORE_HOME/backups, i.e. ~/.local/share/pgstore/backups)';

/** Days of retention: a plain decimal > 0 (up to about 27,000 years, so dates stay valid). */
const days = decimalNumber('--keep-days', { nonZero: true, max: 10_000_000 });

const backupCore = () => import('../core/backup/index.js');
const dirOption = () => new Option('--dir <dir>', DIR_HELP).argParser(creatableFolder('--dir'));
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
  out.result(`  ${formatBytes(m.sizeBytes)}, ${m.format} (${m.compression}), ${m.tables.length} tables, ${rows} rows, ${(m.durationMs / 1000).toFixed(1)} s${verified}`);
  if (r.retention) {
    const removed = r.retention.removed;
    out.result(`  retention: kept ${r.retention.kept.length}, removed ${removed.length}${removed.length ? ` (${removed.join(', ')})` : ''}`);
    for (const d of r.retention.damaged) out.warn(`damaged backup ${d.id} was neither counted nor deleted: ${d.problem}`);
  }
  if (r.leftoversRemoved.length) out.info(`Removed leftovers of interrupted runs: ${r.leftoversRemoved.join(', ')}`);
}

/** Intact and damaged backups in one list, newest first (damaged ones sort by their time too). */
function listingRows(listing: BackupListing) {
  return [
    ...listing.backups.map((b) => ({ at: b.manifest.startedAt, id: b.id, intact: b, damaged: undefined })),
    ...listing.damaged.map((d) => ({ at: d.startedAt, id: d.id, intact: undefined, damaged: d })),
  ].sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id));
}

function listRow(b: BackupEntry): Array<string | number> {
  const m = b.manifest;
  return [b.id, m.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), formatBytes(m.sizeBytes), m.format, m.tables.length, m.tables.reduce((s, t) => s + t.rows, 0), m.verified ? m.verified.method : 'no'];
}

type BackupFlags = { dir?: string; format: 'custom' | 'directory' | 'plain'; jobs?: number; compress?: string; label?: string; verify?: 'read' | 'restore' | true; keepLast?: number; keepDays?: number; metricsFile?: string };

function backupOptions(command: Command): Command {
  return command
    .option('--dir <dir>', DIR_HELP, creatableFolder('--dir'))
    .addOption(new Option('--format <format>', 'custom (default), directory (allows --jobs) or plain SQL').choices(['custom', 'directory', 'plain']).default('custom'))
    .addOption(new Option('--jobs <n>', 'parallel pg_dump jobs (directory format only)').argParser(wholeNumber('--jobs', 1, MAX_JOBS)))
    .option('--compress <method[:level]>', "gzip[:1-9] (pg_dump's default: gzip for custom/directory, none for plain), lz4, zstd (pg_dump 16+), none")
    .option('--label <label>', 'appended to the backup ID, e.g. nightly')
    .addOption(new Option('--verify [method]', 'after writing: read (checksums + read the whole archive back) or restore (also a test restore into a scratch database); bare --verify means read').choices(['read', 'restore']))
    .addOption(new Option('--keep-last <n>', 'after a successful backup, keep the newest N backups (with --keep-days, a backup kept by either rule stays)').argParser(wholeNumber('--keep-last', 1)))
    .addOption(new Option('--keep-days <days>', 'after a successful backup, keep backups younger than D days').argParser(days))
    .option('--metrics-file <file>', 'write Prometheus textfile metrics here (success or failure)', outputFile('--metrics-file'));
}

function listCommand(ctx: CommandContext): Command {
  const command = new Command('list')
    .description('list backups, newest first: complete ones, and damaged ones marked as such (partial ones never appear)')
    .addOption(dirOption())
    .addOption(dbOption())
    .action(action(ctx, {
      load: backupCore,
      call: (backup, io, _flags: unknown, cmd: Command) => backup.listDatabaseBackups(whereOf(io, cmd)),
      // Damaged backups appear in every listing, JSON included, where they would sort by time.
      json: (out, listing) => out.json(listingRows(listing).map((r) => (r.intact
        ? { ...r.intact.manifest, status: 'ok', path: r.intact.path, tables: r.intact.manifest.tables.length, files: r.intact.manifest.files.length }
        : { id: r.damaged!.id, database: r.damaged!.database, status: 'damaged', problem: r.damaged!.problem, path: r.damaged!.path, startedAt: r.damaged!.startedAt }))),
      text: async (out, listing) => {
        const rows = listingRows(listing);
        for (const d of listing.damaged) out.warn(`backup ${d.id} is damaged: ${d.problem}`);
        if (rows.length === 0) return out.result(`No backups of ${listing.database} in ${listing.dir}.`);
        const { renderTable } = await import('../ui/table.js');
        const table = rows.map((r) => (r.intact ? listRow(r.intact) : [r.id, r.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), '-', '-', '-', '-', 'DAMAGED']));
        out.result(await renderTable({ head: ['ID', 'STARTED (UTC)', 'SIZE', 'FORMAT', 'TABLES', 'ROWS', 'VERIFIED'], rows: table, color: out.options.color }));
        out.result(`${listing.backups.length} backup(s) of ${listing.database} in ${listing.dir}${listing.damaged.length ? `, and ${listing.damaged.length} damaged` : ''}`);
      },
    }));
  return examples(command, ['pgstore backup list', 'pgstore backup list --json', 'pgstore backup list --database app --dir /srv/backups']);
}

function verifyCommand(ctx: CommandContext): Command {
  const command = new Command('verify')
    .description('check a backup: checksums and a full read-back, or a test restore into a scratch database')
    .argument('<id>', 'a backup ID, <database>/<ID>, or latest')
    .addOption(new Option('--method <method>', 'read, or restore (needs CREATEDB)').choices(['read', 'restore']).default('read'))
    .addOption(dirOption())
    .addOption(dbOption())
    .action(action(ctx, {
      load: backupCore,
      call: (backup, io, id: string, flags: { method: 'read' | 'restore' }, cmd: Command) =>
        withProgressBar(io.out, (onProgress) =>
          backup.verifyBackup({ ...whereOf(io, cmd), log: io.log, target: flags.method === 'restore' ? ctx.target() : undefined, id, method: flags.method, onProgress })),
      json: (out, { backup, manifest }) => out.json({ id: backup.id, database: backup.database, path: backup.path, ok: true, verified: manifest.verified }),
      text: (out, { backup }, [, flags]) =>
        out.result(`Backup ${backup.database}/${backup.id} is intact (${flags.method === 'restore' ? 'checksums, read-back and a test restore with matching row counts' : 'checksums and a full read-back'}).`),
    }));
  return examples(command, ['pgstore backup verify latest', 'pgstore backup verify 20260102T020000.123Z-nightly --method restore']);
}

function pruneCommand(ctx: CommandContext): Command {
  const command = new Command('prune')
    .description('delete old backups (never the newest verified one)')
    .addOption(new Option('--keep-last <n>', 'keep the newest N').argParser(wholeNumber('--keep-last', 1)))
    .addOption(new Option('--keep-days <days>', 'keep backups younger than D days').argParser(days))
    .option('--dry-run', 'only show what would be deleted')
    .addOption(dirOption())
    .addOption(dbOption())
    .action(action(ctx, {
      load: backupCore,
      call: (backup, io, _flags: unknown, cmd: Command) => {
        // optsWithGlobals: `backup` itself has --keep-last/--keep-days, and takes them wherever they appear.
        const flags = cmd.optsWithGlobals() as { keepLast?: number; keepDays?: number; dryRun?: boolean };
        return backup.pruneBackups({ ...whereOf(io, cmd), keepLast: flags.keepLast, keepDays: flags.keepDays, dryRun: !!flags.dryRun });
      },
      text: (out, result) => {
        const verb = result.dryRun ? 'Would delete' : 'Deleted';
        out.result(result.removed.length ? `${verb} ${result.removed.length} backup(s) of ${result.database}: ${result.removed.join(', ')}` : `Nothing to delete: ${result.kept.length} backup(s) of ${result.database} kept.`);
        if (result.removed.length) out.result(`Kept ${result.kept.length}.`);
        for (const d of result.damaged) out.warn(`damaged backup ${d.id} was neither counted nor deleted: ${d.problem} (look at it, then \`pgstore backup delete ${d.id}\`)`);
      },
    }));
  return examples(command, ['pgstore backup prune --keep-days 7 --dry-run', 'pgstore backup prune --keep-last 10']);
}

function deleteCommand(ctx: CommandContext): Command {
  const command = new Command('delete')
    .description('delete one backup (asks on a terminal; --yes without one)')
    .argument('<id>', 'a backup ID or <database>/<ID>')
    .option('-y, --yes', 'do not ask')
    .addOption(dirOption())
    .addOption(dbOption())
    .action(action(ctx, {
      load: backupCore,
      call: async (backup, io, id: string, flags: { yes?: boolean }, cmd: Command) => {
        const where = whereOf(io, cmd);
        const { dir, database } = backup.listDatabaseBackups(where);
        const entry = backup.findBackupFolder(dir, database, id);
        await confirmer(io.out, !!flags.yes)({ action: `delete backup ${entry.database}/${entry.id}`, target: entry.path, environment: null, details: [] });
        return backup.deleteBackup({ ...where, id });
      },
      text: (out, result) => out.result(`Deleted backup ${result.database}/${result.id}.`),
    }));
  return examples(command, ['pgstore backup delete 20260102T020000.123Z --yes']);
}

export function backupCommand(ctx: CommandContext): Command {
  const command = backupOptions(new Command('backup').description('back up the database (pg_dump): checksummed, written atomically, optionally verified and pruned'))
    .action(action(ctx, {
      load: backupCore,
      call: (backup, io, flags: BackupFlags) =>
        withProgressBar(io.out, (onProgress) =>
          backup.backup({
            ...io.core(),
            dir: flags.dir,
            format: flags.format,
            jobs: flags.jobs,
            compress: flags.compress,
            label: flags.label,
            verify: flags.verify === true ? 'read' : flags.verify,
            keepLast: flags.keepLast,
            keepDays: flags.keepDays,
            metricsFile: flags.metricsFile,
            onProgress,
          })),
      text: (out, result) => describeBackup(out, result),
    }));
  for (const make of [listCommand, verifyCommand, pruneCommand, deleteCommand]) command.addCommand(make(ctx));
  return examples(command, [
    'pgstore backup',
    'pgstore backup --verify --keep-days 7 --quiet --metrics-file /var/lib/node_exporter/pgstore.prom',
    'pgstore backup --format directory --jobs 4 --compress gzip:1 --label nightly',
    'PGSTORE_BACKUP_DIR=/srv/backups pgstore backup --verify=restore --keep-last 14',
  ]);
}
