/**
 * A command's subcommands, built only as far as the run needs (start-up time): when the word
 * right after the command's name names one of them (`pgstore migrate up`), that one is built in
 * full and the others are placeholders that carry their name alone: commander dispatches to
 * the named one and never parses, nor prints the help of, a placeholder; the "unknown
 * command" checks (unknown-subcommand.ts) need only the names. Help, completion and any other
 * word build every subcommand (cli.ts passes no name then), and a usage error's hint searches
 * a full rebuild (cli.ts), so what pgstore prints is the same either way.
 */
import { Command } from 'commander';

export interface Subcommand {
  name: string;
  build: () => Command;
  /** The one commander runs when no subcommand is named (`pgstore migrate` → `up`). */
  isDefault?: boolean;
}

const placeholders = new WeakSet<Command>();

/**
 * Adds `subcommands` to `parent`: every one built in full, or, when `only` names one of them,
 * that one in full and placeholders for the others.
 */
export function addSubcommands(parent: Command, subcommands: Subcommand[], only?: string): Command {
  const partial = only !== undefined && subcommands.some((s) => s.name === only);
  for (const sub of subcommands) {
    const built = !partial || sub.name === only ? sub.build() : placeholder(sub.name);
    if (built.name() !== sub.name) throw new Error(`subcommand ${sub.name} built as ${built.name()}`);
    parent.addCommand(built, sub.isDefault ? { isDefault: true } : {});
  }
  return parent;
}

function placeholder(name: string): Command {
  const command = new Command(name);
  placeholders.add(command);
  return command;
}

/** True for a subcommand that addSubcommands left unbuilt. */
export function isPlaceholder(command: Command): boolean {
  return placeholders.has(command);
}

/** True when `command` or any command under it is a placeholder. */
export function isPartial(command: Command): boolean {
  return isPlaceholder(command) || command.commands.some(isPartial);
}
