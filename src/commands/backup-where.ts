/**
 * What `pgstore backup` and its subcommands share: the core's lazy loader, the --dir and
 * --database options, and whose backups a run means.
 */
import { type Command, Option } from 'commander';
import { type ActionIO, backupDirHelp, type CommandContext } from './context.js';
import { creatableFolder } from './parse.js';

export const backupCore = () => import('../core/backup/index.js');
export const dirOption = (ctx: CommandContext) =>
  new Option('--dir <dir>', backupDirHelp(ctx.env, 'backup folder')).argParser(creatableFolder('--dir'));
export const dbOption = () => new Option('--database <name>', "whose backups (default: the connection's database)");

/** Whose backups, where: --dir, and --database, else the connection's database (resolved only then). */
export function whereOf(
  io: ActionIO,
  command: Command,
): { env: ActionIO['env']; dir: string | undefined; database: string } {
  const o = command.optsWithGlobals() as { dir?: string; database?: string };
  return { env: io.env, dir: o.dir, database: o.database ?? io.ctx.target().database };
}
