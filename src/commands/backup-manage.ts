/**
 * `pgstore backup verify | prune | delete`: checking a backup, retention by policy, and
 * deleting one backup (after a confirmation).
 */
import { Command, Option } from 'commander';
import { confirmer } from '../ui/confirm.js';
import { withProgressBar } from '../ui/progress-sink.js';
import { plural } from '../util/format.js';
import { backupCore, dbOption, dirOption, whereOf } from './backup-where.js';
import { action, type CommandContext, examples } from './context.js';
import { addRetentionOptions, type RetentionFlags, retentionFrom } from './retention-flags.js';

export function verifyCommand(ctx: CommandContext): Command {
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

export function pruneCommand(ctx: CommandContext): Command {
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

export function deleteCommand(ctx: CommandContext): Command {
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
