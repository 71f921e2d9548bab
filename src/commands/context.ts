/**
 * What a command gets from the CLI: its output, the environment, and core options.
 */
import type { Command } from 'commander';
import type { CoreOptions } from '../core/options.js';
import type { Output, Streams } from '../ui/output.js';

export interface CommandContext {
  /** The environment, with the project config's variables added where it does not set them. */
  env: Record<string, string | undefined>;
  /** The project config file (pgstore.toml) this run found, and the environment before it. */
  project?: { path: string | undefined; config: import('./project-config.js').ProjectConfig | undefined; env: Record<string, string | undefined> };
  streams: Streams;
  /** The output for this run, honouring --json, --quiet, --no-color and --debug. */
  makeOutput(overrides?: { color?: boolean }): Output;
  /** Records the parsed global flags (set before each action runs). */
  setFlags(flags: Record<string, unknown>): void;
  /** The exit code for this run when the command itself succeeds (e.g. health found a problem). */
  setExitCode(code: number): void;
  /** Options for a core operation; `log` receives its progress messages. */
  coreOptions(log?: (message: string) => void): CoreOptions;
  /** Every command, built (for shell completion; the CLI owns the registry). */
  allCommands(): Promise<Command[]>;
}

/** A command module: builds its commander command. */
export type RegisterCommand = (app: CommandContext) => Command;

/** Adds an "Examples:" section to a command's help. */
export function examples(command: Command, lines: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`);
}
