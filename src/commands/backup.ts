/**
 * `pgstore backup` (take one) and `pgstore backup list | verify | prune | delete`.
 */
import { Command, Option } from 'commander';
import type { BackupResult } from '../core/backup/index.js';
import type { BackupEntry } from '../core/backup/index.js';
import type { ProgressSink } from '../core/progress.js';
import { confirmer } from '../ui/confirm.js';
import type { Output } from '../ui/output.js';
import { type App, examples } from './app.js';
import { creatableFolder, MAX_JOBS, outputFile, wholeNumber } from './parse.js';
import { addRetentionOptions, type RetentionFlags, retentionFrom } from './retention-flags.js';
import { formatBytes } from '../util/format.js';

const DIR_HELP = 'backup folder (else PGSTORE_BACKUP_DIR, else $PGSTORE_HOME/backups, i.e. ~/.local/share/pgstore/backups)';


/** A progress bar on a terminal (not with --quiet or --json); loaded only when drawn. */
export async function progressFor(out: Output): Promise<{ sink: ProgressSink | undefined; done: () => void }> {
  if (out.options.progress === 'json') return (await import('../ui/progress-json.js')).jsonProgressSink(out.stderr);
  if (out.options.progress === 'none') return { sink: undefined, done: () => undefined };
  if (out.options.quiet || out.options.json || !out.stderrIsTTY) return { sink: undefined, done: () => undefined };
  const { progressBar } = await import('../ui/progress.js');
  const bar = progressBar(out.stderr, true);
  return { sink: (e) => bar.update(e), done: () => bar.done() };
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

function listRow(b: BackupEntry): Array<string | number> {
  const m = b.manifest;
  return [b.id, m.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), formatBytes(m.sizeBytes), m.format, m.tables.length, m.tables.reduce((s, t) => s + t.rows, 0), m.verified ? m.verified.method : 'no'];
}

export function backupCommand(app: App): Command {
  const command = new Command('backup')
    .description('back up the database (pg_dump): checksummed, written atomically, optionally verified and pruned')
    .option('--dir <dir>', DIR_HELP, creatableFolder('--dir'))
    .addOption(new Option('--format <format>', 'custom (default), directory (allows --jobs) or plain SQL').choices(['custom', 'directory', 'plain']).default('custom'))
    .addOption(new Option('--jobs <n>', 'parallel pg_dump jobs (directory format only)').argParser(wholeNumber('--jobs', 1, MAX_JOBS)))
    .option('--compress <method[:level]>', "gzip[:1-9] (pg_dump's default: gzip for custom/directory, none for plain), lz4, zstd (pg_dump 16+), none")
    .option('--label <label>', 'appended to the backup ID, e.g. nightly')
    .addOption(new Option('--verify [method]', 'after writing: read (checksums + read the whole archive back) or restore (also a test restore into a scratch database); bare --verify means read').choices(['read', 'restore']))
    .option('--metrics-file <file>', 'write Prometheus textfile metrics here (success or failure)', outputFile('--metrics-file'))
    .action(async (flags: { dir?: string; format: 'custom' | 'directory' | 'plain'; jobs?: number; compress?: string; label?: string; verify?: 'read' | 'restore' | true; metricsFile?: string } & RetentionFlags) => {
      const out = app.makeOutput();
      const { backup } = await import('../core/backup/index.js');
      const progress = await progressFor(out);
      let result: BackupResult;
      try {
        result = await backup({
          ...app.coreOptions((m) => out.info(m)),
          dir: flags.dir,
          format: flags.format,
          jobs: flags.jobs,
          compress: flags.compress,
          label: flags.label,
          verify: flags.verify === true ? 'read' : flags.verify,
          retention: await retentionFrom(flags),
          metricsFile: flags.metricsFile,
          onProgress: progress.sink,
        });
      } finally {
        progress.done();
      }
      if (out.options.json) out.json(result);
      else describeBackup(out, result);
    });

  const dirOption = () => new Option('--dir <dir>', DIR_HELP).argParser(creatableFolder('--dir'));
  const dbOption = () => new Option('--database <name>', "whose backups (default: the connection's database)");
  const whereOf = (cmd: Command) => {
    const o = cmd.optsWithGlobals() as { dir?: string; database?: string };
    return { dir: o.dir, database: o.database };
  };

  const list = new Command('list')
    .description('list backups, newest first: complete ones, and damaged ones marked as such (partial ones never appear)')
    .addOption(dirOption())
    .addOption(dbOption())
    .action(async (_flags: unknown, cmd: Command) => {
      const out = app.makeOutput();
      const { listDatabaseBackups } = await import('../core/backup/index.js');
      const listing = listDatabaseBackups({ ...app.coreOptions(), ...whereOf(cmd) });
      // Damaged backups appear in every listing, JSON included, where they would sort by time.
      const rows = [
        ...listing.backups.map((b) => ({ at: b.manifest.startedAt, id: b.id, intact: b, damaged: undefined })),
        ...listing.damaged.map((d) => ({ at: d.startedAt, id: d.id, intact: undefined, damaged: d })),
      ].sort((a, b) => b.at.localeCompare(a.at) || b.id.localeCompare(a.id));
      if (out.options.json) {
        out.json(rows.map((r) => (r.intact
          ? { ...r.intact.manifest, status: 'ok', path: r.intact.path, tables: r.intact.manifest.tables.length, files: r.intact.manifest.files.length }
          : { id: r.damaged!.id, database: r.damaged!.database, status: 'damaged', problem: r.damaged!.problem, path: r.damaged!.path, startedAt: r.damaged!.startedAt })));
        return;
      }
      for (const d of listing.damaged) out.warn(`backup ${d.id} is damaged: ${d.problem}`);
      if (rows.length === 0) {
        out.result(`No backups of ${listing.database} in ${listing.dir}.`);
        return;
      }
      const { renderTable } = await import('../ui/table.js');
      const table = rows.map((r) => (r.intact ? listRow(r.intact) : [r.id, r.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), '-', '-', '-', '-', 'DAMAGED']));
      out.result(await renderTable({ head: ['ID', 'STARTED (UTC)', 'SIZE', 'FORMAT', 'TABLES', 'ROWS', 'VERIFIED'], rows: table, color: out.options.color }));
      out.result(`${listing.backups.length} backup(s) of ${listing.database} in ${listing.dir}${listing.damaged.length ? `, and ${listing.damaged.length} damaged` : ''}`);
    });

  const verify = new Command('verify')
    .description('check a backup: checksums and a full read-back, or a test restore into a scratch database')
    .argument('<id>', 'a backup ID, <database>/<ID>, or latest')
    .addOption(new Option('--method <method>', 'read, or restore (needs CREATEDB)').choices(['read', 'restore']).default('read'))
    .addOption(dirOption())
    .addOption(dbOption())
    .action(async (id: string, flags: { method: 'read' | 'restore' }, cmd: Command) => {
      const out = app.makeOutput();
      const { verifyBackup } = await import('../core/backup/index.js');
      const progress = await progressFor(out);
      try {
        const { backup, manifest } = await verifyBackup({ ...app.coreOptions((m) => out.info(m)), ...whereOf(cmd), id, method: flags.method, onProgress: progress.sink });
        progress.done();
        if (out.options.json) out.json({ id: backup.id, database: backup.database, path: backup.path, ok: true, verified: manifest.verified });
        else out.result(`Backup ${backup.database}/${backup.id} is intact (${flags.method === 'restore' ? 'checksums, read-back and a test restore with matching row counts' : 'checksums and a full read-back'}).`);
      } finally {
        progress.done();
      }
    });

  addRetentionOptions(command, 'after a successful backup, ');

  const prune = new Command('prune')
    .description('delete old backups (never the newest verified one)')
    .option('--dry-run', 'only show what would be deleted, and which rule keeps each backup')
    .addOption(dirOption())
    .addOption(dbOption())
    .action(async (_flags: unknown, cmd: Command) => {
      // optsWithGlobals: `backup` itself has the --keep-* flags, and takes them wherever they appear.
      const flags = cmd.optsWithGlobals() as RetentionFlags & { dryRun?: boolean };
      const out = app.makeOutput();
      const { pruneBackups } = await import('../core/backup/index.js');
      const result = await pruneBackups({ ...app.coreOptions(), ...whereOf(cmd), ...(await retentionFrom(flags)), dryRun: !!flags.dryRun });
      if (out.options.json) return out.json(result);
      if (result.dryRun) {
        for (const k of result.kept) out.result(`keep    ${k.id}  ${k.reasons.join('; ')}`);
        for (const id of result.removed) out.result(`delete  ${id}  no rule keeps it`);
      }
      const verb = result.dryRun ? 'Would delete' : 'Deleted';
      out.result(result.removed.length ? `${verb} ${result.removed.length} backup(s) of ${result.database}: ${result.removed.join(', ')}` : `Nothing to delete: ${result.kept.length} backup(s) of ${result.database} kept.`);
      if (result.removed.length) out.result(`Kept ${result.kept.length}.`);
      for (const d of result.damaged) out.warn(`damaged backup ${d.id} was neither counted nor deleted: ${d.problem} (look at it, then \`pgstore backup delete ${d.id}\`)`);
    });
  addRetentionOptions(prune, '');

  const remove = new Command('delete')
    .description('delete one backup (asks on a terminal; --yes without one)')
    .argument('<id>', 'a backup ID or <database>/<ID>')
    .option('-y, --yes', 'do not ask')
    .addOption(dirOption())
    .addOption(dbOption())
    .action(async (id: string, flags: { yes?: boolean }, cmd: Command) => {
      const out = app.makeOutput();
      const ops = await import('../core/backup/index.js');
      const where = whereOf(cmd);
      const { dir, database } = ops.listDatabaseBackups({ ...app.coreOptions(), ...where });
      const { findBackupFolder } = await import('../core/backup/index.js');
      const entry = findBackupFolder(dir, database, id);
      await confirmer(out, !!flags.yes)({ action: `delete backup ${entry.database}/${entry.id}`, target: entry.path, environment: null, details: [] });
      const result = await ops.deleteBackup({ ...app.coreOptions(), ...where, id });
      if (out.options.json) out.json(result);
      else out.result(`Deleted backup ${result.database}/${result.id}.`);
    });

  for (const sub of [
    examples(list, ['pgstore backup list', 'pgstore backup list --json', 'pgstore backup list --database app --dir /srv/backups']),
    examples(verify, ['pgstore backup verify latest', 'pgstore backup verify 20260102T020000.123Z-nightly --method restore']),
    examples(prune, ['pgstore backup prune --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run', 'pgstore backup prune --keep-last 10 --keep-within 2w']),
    examples(remove, ['pgstore backup delete 20260102T020000.123Z --yes']),
  ]) {
    command.addCommand(sub);
  }
  return examples(command, [
    'pgstore backup',
    'pgstore backup --verify --keep-days 7 --quiet --metrics-file /var/lib/node_exporter/pgstore.prom',
    'pgstore backup --format directory --jobs 4 --compress gzip:1 --label nightly',
    'PGSTORE_BACKUP_DIR=/srv/backups pgstore backup --verify=restore --keep-last 14',
  ]);
}
