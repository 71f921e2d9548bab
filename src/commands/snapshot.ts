/**
 * `pgstore snapshot create | list | show | diff | rollback | delete | prune`: saved hosts
 * files, compared with the current entries and rolled back to (atomically, as events). One
 * factory per subcommand; `snapshotCommand` registers them.
 */
import { Command, Option } from 'commander';
import type { SnapshotDiff, SnapshotProgress } from '../core/snapshot/index.js';
import { confirmer } from '../ui/confirm.js';
import { cell, entryLine, when } from '../ui/hosts-view.js';
import { snapshotJson, snapshotListJson, snapshotRefJson } from '../ui/json-views.js';
import type { Output } from '../ui/output.js';
import { listFormatOption, replicaOption } from './list-options.js';
import { action, type ActionIO, type CommandContext, examples } from './context.js';
import { addSubcommands } from './subcommands.js';
import { wholeNumber } from './parse.js';
import { plural } from '../util/format.js';

const snapshotCore = () => import('../core/snapshot/index.js');
const keepLast = () =>
  new Option('--keep-last <n>', 'keep at most this many snapshots (default 50)').argParser(
    wholeNumber('--keep-last', 1),
  );
const keepDays = () =>
  new Option('--keep-days <days>', 'delete snapshots older than this many days (default 30)').argParser(
    wholeNumber('--keep-days', 1, 10_000_000),
  );

function describeDiff(out: Output, diff: SnapshotDiff): void {
  const to = diff.to ? `snapshot ${diff.to.snapshotId}` : 'the current entries';
  out.result(`From snapshot ${diff.from.snapshotId} (${when(diff.from.createdAt)} UTC) to ${to}:`);
  for (const e of diff.added) out.result(`${out.c.green('+')} ${entryLine(e)}`);
  for (const e of diff.removed) out.result(`${out.c.red('-')} ${entryLine(e)}`);
  for (const c of diff.changed) {
    const parts = c.fields.map((f) =>
      f === 'comment'
        ? `comment '${cell(c.before.comment)}' → '${cell(c.after.comment)}'`
        : `${f} [${c.before[f].join(', ')}] → [${c.after[f].join(', ')}]`,
    );
    // Unchanged tags still show, after the name (changed ones are among the parts).
    const tags = !c.fields.includes('tags') && c.after.tags.length ? ` [${c.after.tags.join(', ')}]` : '';
    out.result(`${out.c.yellow('~')} ${c.ipAddress}\t${c.hostname}${tags}: ${parts.join('; ')}`);
  }
  out.result(
    `${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged} unchanged.`,
  );
}

/**
 * Runs `fn` with the snapshot phases shown as --progress asks (a bar on a terminal, NDJSON
 * events with json); `pause` clears the bar (before a question). The bar ends whatever happens.
 */
async function withSnapshotProgress<T>(
  io: ActionIO,
  fn: (onProgress: SnapshotProgress, pause: () => void) => Promise<T>,
): Promise<T> {
  const { countProgressFor } = await import('../ui/progress-sink.js');
  const bar = await countProgressFor(io.out, 'reading', 'entries');
  try {
    return await fn(
      (e) => bar.update(e.done, e.total, e.phase, e.unit),
      () => bar.done(),
    );
  } finally {
    bar.done();
  }
}

function createCommand(ctx: CommandContext): Command {
  const command = new Command('create')
    .description('save the current entries as a snapshot (trigger manual), then apply retention')
    .option('--name <name>', 'a name to recognise it by')
    .addOption(keepLast())
    .addOption(keepDays())
    .action(
      action(ctx, {
        load: snapshotCore,
        call: (s, io, flags: { name?: string; keepLast?: number; keepDays?: number }) =>
          withSnapshotProgress(io, (onProgress) =>
            s.createSnapshot({
              ...io.core(),
              name: flags.name,
              keepLast: flags.keepLast,
              keepDays: flags.keepDays,
              onProgress,
            }),
          ),
        json: (out, result) => out.json({ snapshot: snapshotJson(result.snapshot), pruned: result.pruned }),
        text: (out, result) => {
          out.result(`Saved snapshot ${result.snapshot.snapshotId} (${plural(result.snapshot.entryCount, 'entry')}).`);
          if (result.pruned > 0) out.info(`Retention deleted ${plural(result.pruned, 'older snapshot')}.`);
        },
      }),
    );
  return examples(command, [
    'pgstore snapshot create',
    'pgstore snapshot create --name "before migration" --keep-last 20 --keep-days 90',
  ]);
}

function listCommand(ctx: CommandContext): Command {
  const command = new Command('list')
    .description('list snapshots, newest first')
    .addOption(new Option('--limit <n>', 'at most this many').argParser(wholeNumber('--limit', 1)))
    .addOption(new Option('--offset <n>', 'skip this many first').argParser(wholeNumber('--offset')))
    .addOption(listFormatOption())
    .addOption(replicaOption())
    .action(
      action(ctx, {
        load: snapshotCore,
        call: (s, io, flags: { limit?: number; offset?: number; format: string; replica?: string | true }) =>
          s.listSnapshots({ ...io.core(), limit: flags.limit, offset: flags.offset, replica: flags.replica }),
        json: (out, list) => out.jsonArray(snapshotListJson(list)),
        text: async (out, list, [flags]) => {
          if (flags.format === 'ndjson') return out.ndjson(snapshotListJson(list));
          if (flags.format === 'json') return out.jsonArray(snapshotListJson(list));
          if (list.length === 0) return out.result('No snapshots.');
          const rows = list.map((s) => [
            s.snapshotId,
            `${when(s.createdAt)} UTC`,
            s.entryCount,
            s.trigger,
            s.name ?? '',
          ]);
          await out.table({ head: ['ID', 'CREATED', 'ENTRIES', 'TRIGGER', 'NAME'], rows });
        },
      }),
    );
  return examples(command, [
    'pgstore snapshot list',
    'pgstore snapshot list --limit 5 --json',
    'pgstore snapshot list --replica',
  ]);
}

function showCommand(ctx: CommandContext): Command {
  const command = new Command('show')
    .description("print a snapshot's hosts file")
    .argument('<id>', 'the snapshot id')
    .action(
      action(ctx, {
        load: snapshotCore,
        call: (s, io, id: string) => s.showSnapshot({ ...io.core(), id }),
        json: (out, s) => out.json(snapshotJson(s)),
        text: (out, s) => {
          out.info(
            `snapshot ${s.snapshotId}: ${when(s.createdAt)} UTC, ${plural(s.entryCount, 'entry')}, trigger ${s.trigger}${s.name ? `, name ${s.name}` : ''}`,
          );
          out.raw(s.hostsContent);
        },
      }),
    );
  return examples(command, [
    'pgstore snapshot show 01JABCDEF0123456789ABCDEFG',
    'pgstore snapshot show 01JABCDEF0123456789ABCDEFG > hosts.old',
  ]);
}

function diffCommand(ctx: CommandContext): Command {
  const command = new Command('diff')
    .description('compare a snapshot with the current entries, or with a second snapshot')
    .argument('<id>', 'the snapshot to compare from')
    .argument('[id2]', 'the snapshot to compare to (default: the current entries)')
    .action(
      action(ctx, {
        load: snapshotCore,
        call: (s, io, id: string, id2: string | undefined) => s.diffSnapshot({ ...io.core(), id, against: id2 }),
        json: (out, diff) => out.json({ ...diff, from: snapshotJson(diff.from), to: snapshotRefJson(diff.to) }),
        text: (out, diff) => describeDiff(out, diff),
      }),
    );
  return examples(command, [
    'pgstore snapshot diff 01JABCDEF0123456789ABCDEFG',
    'pgstore snapshot diff 01JAAAAAAA... 01JBBBBBBB... --json',
  ]);
}

function rollbackCommand(ctx: CommandContext): Command {
  const command = new Command('rollback')
    .description('make the entries equal to a snapshot (asks first; a pre-rollback snapshot is saved; one transaction)')
    .argument('<id>', 'the snapshot id')
    .option('-y, --yes', 'do not ask (needed without a terminal)')
    .action(
      action(ctx, {
        load: snapshotCore,
        call: (s, io, id: string, flags: { yes?: boolean }) =>
          withSnapshotProgress(io, (onProgress, pause) => {
            const ask = confirmer(io.out, !!flags.yes);
            return s.rollbackSnapshot({
              ...io.core(),
              id,
              onProgress,
              confirm: (plan) => {
                pause();
                return ask(plan);
              },
            });
          }),
        text: (out, r) => {
          out.result(
            `Rolled back to snapshot ${r.snapshotId}: ${r.deleted} deleted, ${r.created} created, ${r.changed} changed, ${r.unchanged} unchanged.`,
          );
          out.result(
            `The entries as they were are in snapshot ${r.preRollbackSnapshotId} (pgstore snapshot rollback ${r.preRollbackSnapshotId} undoes this).`,
          );
        },
      }),
    );
  return examples(command, [
    'pgstore snapshot rollback 01JABCDEF0123456789ABCDEFG',
    'pgstore snapshot rollback 01JABCDEF0123456789ABCDEFG --yes --json',
  ]);
}

function deleteCommand(ctx: CommandContext): Command {
  const command = new Command('delete')
    .description('delete a snapshot')
    .argument('<id>', 'the snapshot id')
    .action(
      action(ctx, {
        load: snapshotCore,
        call: (s, io, id: string) => s.deleteSnapshot({ ...io.core(), id }),
        json: (out, result) => out.json({ id: result.snapshotId }),
        text: (out, result) => out.result(`Deleted snapshot ${result.snapshotId}.`),
      }),
    );
  return examples(command, ['pgstore snapshot delete 01JABCDEF0123456789ABCDEFG']);
}

function pruneCommand(ctx: CommandContext): Command {
  const command = new Command('prune')
    .description('apply retention now: keep the newest N, delete those older than D days')
    .addOption(keepLast())
    .addOption(keepDays())
    .action(
      action(ctx, {
        load: snapshotCore,
        call: (s, io, flags: { keepLast?: number; keepDays?: number }) =>
          s.pruneSnapshots({ ...io.core(), keepLast: flags.keepLast, keepDays: flags.keepDays }),
        text: (out, r) =>
          out.result(
            `Deleted ${plural(r.deleted, 'snapshot')} (keeping at most ${r.keepLast}, none older than ${plural(r.keepDays, 'day')}).`,
          ),
      }),
    );
  return examples(command, ['pgstore snapshot prune', 'pgstore snapshot prune --keep-last 10 --keep-days 7']);
}

/** `only`: the subcommand this run names, the one built in full (subcommands.ts). */
export function snapshotCommand(ctx: CommandContext, only?: string): Command {
  const snapshot = new Command('snapshot').description(
    'save the hosts entries as snapshots; list, compare and roll back to them',
  );
  addSubcommands(
    snapshot,
    [
      { name: 'create', build: () => createCommand(ctx) },
      { name: 'list', build: () => listCommand(ctx) },
      { name: 'show', build: () => showCommand(ctx) },
      { name: 'diff', build: () => diffCommand(ctx) },
      { name: 'rollback', build: () => rollbackCommand(ctx) },
      { name: 'delete', build: () => deleteCommand(ctx) },
      { name: 'prune', build: () => pruneCommand(ctx) },
    ],
    only,
  );
  return examples(snapshot, [
    'pgstore snapshot create --name nightly',
    'pgstore snapshot diff 01JABCDEF0123456789ABCDEFG',
    'pgstore snapshot rollback 01JABCDEF0123456789ABCDEFG --yes',
  ]);
}
