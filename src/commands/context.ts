/**
 * What a command gets from the CLI: its output, the environment, the connection target
 * (resolved once per run), and core options.
 */
import type { Command } from 'commander';
import type { CoreOptions } from '../core/options.js';
import type { ConnectionTarget, EmbeddedTarget } from '../db/config.js';
import type { Output, Streams } from '../ui/output.js';

export interface CommandContext {
  env: Record<string, string | undefined>;
  streams: Streams;
  /** The output for this run, honouring --json, --quiet, --no-color and --debug. */
  makeOutput(overrides?: { color?: boolean }): Output;
  /** Records the parsed global flags (set before each action runs). */
  setFlags(flags: Record<string, unknown>): void;
  /** The exit code for this run when the command itself succeeds (e.g. health found a problem). */
  setExitCode(code: number): void;
  /**
   * Where this run connects (--database-url, DATABASE_URL, PG* variables or the embedded
   * server): resolved on first use, once per run; a bad setting is a ConfigError (exit 2).
   */
  target(): ConnectionTarget;
  /** The embedded server's target (`pgstore server`), whatever else is configured. */
  embedded(): EmbeddedTarget;
  /** Options for a core operation that connects (the target above); `log` receives its progress messages. */
  coreOptions(log?: (message: string) => void): CoreOptions;
}

/** A command module: builds its commander command. */
export type RegisterCommand = (app: CommandContext) => Command;

/** Adds an "Examples:" section to a command's help. */
export function examples(command: Command, lines: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`);
}
