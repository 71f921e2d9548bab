/**
 * `pgstore snapshot create | list | show | diff | rollback | delete | prune`: saved hosts
 * files, compared with the current entries and rolled back to (atomically, as events).
 */
import { Command, Option } from 'commander';
import type { SnapshotDiff } from '../core/snapshot/index.js';
import { confirmer } from '../ui/confirm.js';
import type { Output } from '../ui/output.js';
import { type App, examples } from './app.js';
import { cell, when } from './hosts-render.js';
import { wholeNumber } from './parse.js';

const keepLast = () => new Option('--keep-last <n>', 'keep at most this many snapshots (default 50)').argParser(wholeNumber('--keep-last', 1));
const keepDays = () => new Option('--keep-days <days>', 'delete snapshots older than this many days (default 30)').argParser(wholeNumber('--keep-days', 1, 10_000_000));

function describeDiff(out: Output, diff: SnapshotDiff): void {
  const to = diff.to ? `snapshot ${diff.to.snapshotId}` : 'the current entries';
  out.result(`From snapshot ${diff.from.snapshotId} (${when(diff.from.createdAt)} UTC) to ${to}:`);
  for (const e of diff.added) out.result(`${out.c.green('+')} ${e.ipAddress}\t${[e.hostname, ...e.aliases].join(' ')}${e.comment ? `\t# ${cell(e.comment)}` : ''}`);
  for (const e of diff.removed) out.result(`${out.c.red('-')} ${e.ipAddress}\t${[e.hostname, ...e.aliases].join(' ')}${e.comment ? `\t# ${cell(e.comment)}` : ''}`);
  for (const c of diff.changed) {
    const parts = c.fields.map((f) =>
      f === 'comment' ? `comment '${cell(c.before.comment)}' → '${cell(c.after.comment)}'` : `${f} [${c.before[f].join(', ')}] → [${c.after[f].join(', ')}]`,
    );
    out.result(`${out.c.yellow('~')} ${c.ipAddress}\t${c.hostname}: ${parts.join('; ')}`);
  }
  out.result(`${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged.`);
}

export function snapshotCommand(app: App): Command {
  const snapshot = new Command('snapshot').description('save the hosts entries as snapshots; list, compare and roll back to them');

  const create = new Command('create')
    .description('save the current entries as a snapshot (trigger manual), then apply retention')
    .option('--name <name>', 'a name to recognise it by')
    .addOption(keepLast())
    .addOption(keepDays())
    .action(async (flags: { name?: string; keepLast?: number; keepDays?: number }) => {
      const out = app.makeOutput();
      const { createSnapshot } = await import('../core/snapshot/index.js');
      const result = await createSnapshot({ ...app.coreOptions((m) => out.info(m)), name: flags.name, keepLast: flags.keepLast, keepDays: flags.keepDays });
      if (out.options.json) return out.json(result);
      out.result(`Saved snapshot ${result.snapshot.snapshotId} (${result.snapshot.entryCount} entries).`);
      if (result.pruned > 0) out.info(`Retention deleted ${result.pruned} older snapshot(s).`);
    });
  snapshot.addCommand(examples(create, ['pgstore snapshot create', 'pgstore snapshot create --name "before migration" --keep-last 20 --keep-days 90']));

  const list = new Command('list')
    .description('list snapshots, newest first')
    .addOption(new Option('--limit <n>', 'at most this many').argParser(wholeNumber('--limit', 1)))
    .addOption(new Option('--offset <n>', 'skip this many first').argParser(wholeNumber('--offset')))
    .addOption(new Option('--format <format>', 'json: one document (as --json); ndjson: one JSON object a line, streamed').choices(['table', 'json', 'ndjson']).default('table'))
    .action(async (flags: { limit?: number; offset?: number; format: string }) => {
      const out = app.makeOutput();
      const { listSnapshots } = await import('../core/snapshot/index.js');
      const list = await listSnapshots({ ...app.coreOptions((m) => out.info(m)), limit: flags.limit, offset: flags.offset });
      if (flags.format === 'ndjson') return out.ndjson(list);
      if (out.options.json || flags.format === 'json') return out.jsonArray(list);
      if (list.length === 0) return out.result('No snapshots.');
      const rows = list.map((s) => [s.snapshotId, `${when(s.createdAt)} UTC`, s.entryCount, s.trigger, s.name ?? '']);
      await out.table({ head: ['ID', 'CREATED', 'ENTRIES', 'TRIGGER', 'NAME'], rows });
    });
  snapshot.addCommand(examples(list, ['pgstore snapshot list', 'pgstore snapshot list --limit 5 --json']));

  const show = new Command('show')
    .description("print a snapshot's hosts file")
    .argument('<id>', 'the snapshot id')
    .action(async (id: string) => {
      const out = app.makeOutput();
      const { showSnapshot } = await import('../core/snapshot/index.js');
      const s = await showSnapshot({ ...app.coreOptions((m) => out.info(m)), id });
      if (out.options.json) return out.json(s);
      out.info(`snapshot ${s.snapshotId}: ${when(s.createdAt)} UTC, ${s.entryCount} entries, trigger ${s.trigger}${s.name ? `, name ${s.name}` : ''}`);
      out.raw(s.hostsContent);
    });
  snapshot.addCommand(examples(show, ['pgstore snapshot show 01JABCDEF0123456789ABCDEFG', 'pgstore snapshot show 01JABCDEF0123456789ABCDEFG > hosts.old']));

  const diff = new Command('diff')
    .description('compare a snapshot with the current entries, or with a second snapshot')
    .argument('<id>', 'the snapshot to compare from')
    .argument('[id2]', 'the snapshot to compare to (default: the current entries)')
    .action(async (id: string, id2: string | undefined) => {
      const out = app.makeOutput();
      const { diffSnapshot } = await import('../core/snapshot/index.js');
      const result = await diffSnapshot({ ...app.coreOptions((m) => out.info(m)), id, against: id2 });
      if (out.options.json) return out.json(result);
      describeDiff(out, result);
    });
  snapshot.addCommand(examples(diff, ['pgstore snapshot diff 01JABCDEF0123456789ABCDEFG', 'pgstore snapshot diff 01JAAAAAAA... 01JBBBBBBB... --json']));

  const rollback = new Command('rollback')
    .description('make the entries equal to a snapshot (asks first; a pre-rollback snapshot is saved; one transaction)')
    .argument('<id>', 'the snapshot id')
    .option('-y, --yes', 'do not ask (needed without a terminal)')
    .action(async (id: string, flags: { yes?: boolean }) => {
      const out = app.makeOutput();
      const { rollbackSnapshot } = await import('../core/snapshot/index.js');
      const result = await rollbackSnapshot({ ...app.coreOptions((m) => out.info(m)), id, confirm: confirmer(out, !!flags.yes) });
      if (out.options.json) return out.json(result);
      out.result(
        `Rolled back to snapshot ${result.snapshotId}: ${result.deleted} deleted, ${result.created} created, ${result.changed} changed, ${result.unchanged} unchanged.`,
      );
      out.result(`The entries as they were are in snapshot ${result.preRollbackSnapshotId} (pgstore snapshot rollback ${result.preRollbackSnapshotId} undoes this).`);
    });
  snapshot.addCommand(examples(rollback, ['pgstore snapshot rollback 01JABCDEF0123456789ABCDEFG', 'pgstore snapshot rollback 01JABCDEF0123456789ABCDEFG --yes --json']));

  const del = new Command('delete')
    .description('delete a snapshot')
    .argument('<id>', 'the snapshot id')
    .action(async (id: string) => {
      const out = app.makeOutput();
      const { deleteSnapshot } = await import('../core/snapshot/index.js');
      const result = await deleteSnapshot({ ...app.coreOptions((m) => out.info(m)), id });
      if (out.options.json) return out.json({ deleted: result.snapshotId });
      out.result(`Deleted snapshot ${result.snapshotId}.`);
    });
  snapshot.addCommand(examples(del, ['pgstore snapshot delete 01JABCDEF0123456789ABCDEFG']));

  const prune = new Command('prune')
    .description('apply retention now: keep the newest N, delete those older than D days')
    .addOption(keepLast())
    .addOption(keepDays())
    .action(async (flags: { keepLast?: number; keepDays?: number }) => {
      const out = app.makeOutput();
      const { pruneSnapshots } = await import('../core/snapshot/index.js');
      const result = await pruneSnapshots({ ...app.coreOptions((m) => out.info(m)), keepLast: flags.keepLast, keepDays: flags.keepDays });
      if (out.options.json) return out.json(result);
      out.result(`Deleted ${result.deleted} snapshot(s) (keeping at most ${result.keepLast}, none older than ${result.keepDays} days).`);
    });
  snapshot.addCommand(examples(prune, ['pgstore snapshot prune', 'pgstore snapshot prune --keep-last 10 --keep-days 7']));
  return examples(snapshot, ['pgstore snapshot create --name nightly', 'pgstore snapshot diff 01JABCDEF0123456789ABCDEFG', 'pgstore snapshot rollback 01JABCDEF0123456789ABCDEFG --yes']);
}
