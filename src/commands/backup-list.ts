/**
 * `pgstore backup list`: intact, damaged and physical backups in one list, newest first, as a
 * table, one JSON document, or NDJSON.
 */
import { Command } from 'commander';
import type { BackupEntry, BackupListing } from '../core/backup/index.js';
import type { PhysicalBackup } from '../core/backup/pgbackrest/index.js';
import { physicalBackupJson } from '../ui/json-views.js';
import type { Output } from '../ui/output.js';
import { formatBytes, plural } from '../util/format.js';
import { backupCore, dbOption, dirOption, whereOf } from './backup-where.js';
import { listFormatOption } from './list-options.js';
import { action, type CommandContext, examples } from './context.js';

/** Intact, damaged and physical backups in one list, newest first (each sorts by its time). */
type Listing = BackupListing & { physical: PhysicalBackup[] };

function listingRows(listing: Listing) {
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

/** The listing as a table with a summary line, or as JSON / NDJSON (--format). */
async function printListing(out: Output, listing: Listing, format: string): Promise<void> {
  if (format === 'json') return out.json(listingJson(listing));
  if (format === 'ndjson') return out.ndjson(listingJson(listing));
  const rows = listingRows(listing);
  for (const d of listing.damaged) out.warn(`backup ${d.id} is damaged: ${d.problem}`);
  if (rows.length === 0) return out.result(`No backups of ${listing.database} in ${listing.dir}.`);
  const { renderTable } = await import('../ui/table.js');
  const when = (at: string) => at.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const table = rows.map((r) =>
    r.physical
      ? [r.id, when(r.at), formatBytes(r.physical.sizeBytes), `${r.physical.engine} ${r.physical.type}`, '-', '-', '-']
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
}

export function backupListCommand(ctx: CommandContext): Command {
  const command = new Command('list')
    .description(
      'list backups, newest first: complete ones, and damaged ones marked as such (partial ones never appear)',
    )
    .addOption(dirOption(ctx))
    .addOption(dbOption())
    .addOption(listFormatOption())
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
        text: (out, listing, [flags]) => printListing(out, listing, flags.format),
      }),
    );
  return examples(command, [
    'pgstore backup list',
    'pgstore backup list --json',
    'pgstore backup list --database app --dir /srv/backups',
    'pgstore backup list --format ndjson | jq -r .id',
  ]);
}
