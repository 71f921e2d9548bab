/**
 * The explicit list of pgstore's commands, in the order `pgstore --help` shows them. Each is
 * loaded on demand: a run that names its command loads that command's module only (see
 * cli.ts); help and unknown names load them all.
 */
import type { RegisterCommand } from './context.js';

export interface CommandEntry {
  name: string;
  load: () => Promise<RegisterCommand>;
}

export const COMMANDS: CommandEntry[] = [
  { name: 'setup', load: async () => (await import('./setup.js')).setupCommand },
  { name: 'migrate', load: async () => (await import('./migrate.js')).migrateCommand },
  { name: 'reset', load: async () => (await import('./setup.js')).resetCommand },
  { name: 'seed', load: async () => (await import('./seed.js')).seedCommand },
  { name: 'hosts', load: async () => (await import('./hosts.js')).hostsCommand },
  { name: 'snapshot', load: async () => (await import('./snapshot.js')).snapshotCommand },
  { name: 'backup', load: async () => (await import('./backup.js')).backupCommand },
  { name: 'restore', load: async () => (await import('./restore.js')).restoreCommand },
  { name: 'health', load: async () => (await import('./health.js')).healthCommand },
  { name: 'server', load: async () => (await import('./server.js')).serverCommand },
  { name: 'config', load: async () => (await import('./config.js')).configCommand },
  { name: 'completion', load: async () => (await import('./completion.js')).completionCommand },
];

/** Global options that take a value (the word after them is not a command name). */
const VALUE_OPTIONS = new Set(['-d', '--database-url']);

/** The command a run names, and the word after its name when that may name a subcommand. */
export interface NamedCommand {
  entry: CommandEntry;
  /** Only the subcommand it names need be built (subcommands.ts); undefined: build them all. */
  subcommand?: string;
}

/**
 * The command `args` run, when it is one of COMMANDS and nothing else needs the full list
 * (help, unknown names: commander suggests among all); otherwise undefined.
 */
export function commandNamed(args: string[]): NamedCommand | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return undefined;
    if (arg === '-h' || arg === '--help') return undefined;
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    const entry = COMMANDS.find((c) => c.name === arg);
    if (!entry) return undefined;
    // The word right after the name, when it is not an option (an option's value could look
    // like a subcommand's name); any help asked for later builds every subcommand.
    const next = args[i + 1];
    const later = args.slice(i + 1);
    const end = later.indexOf('--');
    const help = (end === -1 ? later : later.slice(0, end)).some((a) => a === '-h' || a === '--help');
    return { entry, subcommand: next === undefined || next.startsWith('-') || help ? undefined : next };
  }
  return undefined;
}
