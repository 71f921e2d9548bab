/**
 * `pgstore completion bash|zsh|fish`: prints a completion script for the shell (commands,
 * subcommands, flags, choices, and backup IDs). `pgstore completion ids` lists backup IDs for
 * the script; it reads the backup folder and never connects to the server.
 */
import { Argument, type Command } from 'commander';
import { Command as CommandClass } from 'commander';
import { UsageError } from '../errors.js';
import type { CompletionNode } from '../ui/completion-scripts.js';
import { action, type CommandContext, examples } from './context.js';

/** The commands whose argument is a backup ID. */
const TAKES_BACKUP_ID = new Set(['restore', 'backup verify', 'backup delete']);

function treeOf(command: Command, path = ''): CompletionNode {
  const visible = (c: Command) => !(c as unknown as { _hidden?: boolean })._hidden;
  return {
    name: command.name(),
    description: command.description().split('\n')[0] ?? '',
    options: command.options
      .filter((o) => !o.hidden)
      .map((o) => ({
        names: [o.short, o.long].filter((n): n is string => !!n),
        takesValue: o.required || o.optional,
        ...(o.argChoices ? { choices: o.argChoices } : {}),
        description: o.description,
      })),
    children: command.commands.filter(visible).map((c) => treeOf(c, path ? `${path} ${c.name()}` : c.name())),
    ...(TAKES_BACKUP_ID.has(path) ? { backupIds: true } : {}),
  };
}

/**
 * bash, zsh or fish; `ids` too, which the scripts themselves call (backup IDs for TAB) and
 * which is not offered to people (help and the error name the three shells).
 */
function shellName(value: string): string {
  if (['bash', 'zsh', 'fish', 'ids'].includes(value)) return value;
  throw new UsageError(`unknown shell '${value}': pgstore prints completion for bash, zsh or fish`, {
    hint: 'See `pgstore completion --help`.',
  });
}

export function completionCommand(app: CommandContext): Command {
  const command = new CommandClass('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell: bash, zsh or fish').argParser(shellName))
    .addHelpText(
      'after',
      "\nInstall:\n  bash: echo 'source <(pgstore completion bash)' >> ~/.bashrc\n  zsh:  echo 'eval \"$(pgstore completion zsh)\"' >> ~/.zshrc\n  fish: pgstore completion fish > ~/.config/fish/completions/pgstore.fish\n",
    )
    .action(
      action(app, {
        load: () => import('../ui/completion-scripts.js'),
        call: async (scripts, io, shell: string, _flags: unknown, cmd: Command) => {
          if (shell === 'ids') {
            // For the scripts: IDs of the configured database's backups, newest first, and `latest`.
            const { listDatabaseBackups } = await import('../core/backup/index.js');
            const listing = listDatabaseBackups({ env: io.env, database: app.target().database });
            return `${['latest', ...listing.backups.map((b) => b.id)].join('\n')}\n`;
          }
          const root: CompletionNode = {
            ...treeOf(cmd.parent!),
            children: (await app.allCommands()).map((c) => treeOf(c, c.name())),
          };
          return shell === 'bash'
            ? scripts.bashScript(root)
            : shell === 'zsh'
              ? scripts.zshScript(root)
              : scripts.fishScript(root);
        },
        // A shell reads the script (or the IDs); --json wraps it in an object like every command's.
        json: (out, script, [shell]) =>
          out.json(shell === 'ids' ? { ids: script.split('\n').filter(Boolean) } : { shell, script }),
        text: (out, script) => out.raw(script),
      }),
    );
  return examples(command, [
    'pgstore completion bash > /etc/bash_completion.d/pgstore',
    'pgstore completion fish > ~/.config/fish/completions/pgstore.fish',
  ]);
}
