/**
 * What a command gets from the CLI (its output, the environment, the connection target
 * resolved once per run), and `action`: the one helper every subcommand's action goes through.
 * (Write a spec's renderers as arrow functions: TypeScript infers the flags' type from `call`
 * only while the renderers are context-sensitive.)
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultBackupDir } from '../db/home.js';
import type { CoreOptions } from '../core/options.js';
import type { ConnectionTarget, EmbeddedTarget } from '../db/config.js';
import type { Output, Streams } from '../ui/output.js';

export interface CommandContext {
  /** The environment, with the project config's variables added where it does not set them. */
  env: Record<string, string | undefined>;
  /** The project config file (pgstore.toml) this run found, and the environment before it. */
  project?: {
    path: string | undefined;
    config: import('./project-config.js').ProjectConfig | undefined;
    env: Record<string, string | undefined>;
  };
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
  /** Every command, built (for shell completion; the CLI owns the registry). */
  allCommands(): Promise<Command[]>;
}

/**
 * A command module: builds its commander command; with `only` naming one of its subcommands,
 * it may build that one alone in full (subcommands.ts).
 */
export type RegisterCommand = (ctx: CommandContext, only?: string) => Command;

/**
 * The help of a backup-folder option: `lead`, then where the folder comes from without the
 * flag, ending in the real folder for this user and environment (root's differs from others').
 */
export function backupDirHelp(
  env: Record<string, string | undefined>,
  lead: string,
  { ifExists = false } = {},
): string {
  const fromEnv = env.PGSTORE_BACKUP_DIR?.trim();
  const fallback = `$PGSTORE_HOME/backups${ifExists ? ' if it exists' : ''}`;
  return `${lead} (else PGSTORE_BACKUP_DIR${fromEnv ? `, here ${resolve(fromEnv)}` : `, else ${fallback}, here ${defaultBackupDir(env)}`})`;
}

/** Adds an "Examples:" section to a command's help. */
export function examples(command: Command, lines: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`);
}

/** What an action's core call gets besides its operands and flags. */
export interface ActionIO {
  ctx: CommandContext;
  out: Output;
  env: Record<string, string | undefined>;
  /** Progress messages, on stderr (not with --quiet or --json). */
  log: (message: string) => void;
  /** Options for a core call that connects: this run's target (resolved here, once), env and log. */
  core(): CoreOptions;
}

/**
 * One subcommand's action. `P` is what commander passes (the operands, the flags, the
 * command); the renderers get it as one tuple, `args`. --json prints the result as JSON
 * unless `json` says otherwise (false: `text` renders both).
 */
export interface ActionSpec<M, P extends unknown[], R> {
  /** The feature's public face (its index.ts), imported only when the action runs. */
  load: () => Promise<M>;
  /** The one core call. */
  call: (core: M, io: ActionIO, ...args: P) => R | Promise<R>;
  /** The result for people, on stdout. */
  text?: (out: Output, result: NoInfer<R>, args: NoInfer<P>) => void | Promise<void>;
  json?: false | ((out: Output, result: NoInfer<R>, args: NoInfer<P>) => void | Promise<void>);
  /** The exit code of a run that succeeded but found a problem (default: 0). */
  exitCode?: (result: NoInfer<R>, args: NoInfer<P>) => number | undefined;
}

/**
 * The action every subcommand runs: make the output, load the core module, make the one call,
 * render JSON or text, set the exit code the result calls for. Errors go up to cli.ts, the
 * only place that prints them.
 */
export function action<M, P extends unknown[], R>(
  ctx: CommandContext,
  spec: ActionSpec<M, P, R>,
  // biome-ignore lint/suspicious/noExplicitAny: commander's handler type; P comes from spec.call alone
): (...args: any[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    const args = raw as P; // what commander passes: the operands, the flags, the command
    const out = ctx.makeOutput();
    const log = (message: string) => out.info(message);
    const io: ActionIO = { ctx, out, env: ctx.env, log, core: () => ({ target: ctx.target(), env: ctx.env, log }) };
    const core = await spec.load();
    const result = await spec.call(core, io, ...args);
    if (out.options.json && spec.json !== false) await (spec.json ? spec.json(out, result, args) : out.json(result));
    else await spec.text?.(out, result, args);
    const code = spec.exitCode?.(result, args);
    if (code !== undefined) ctx.setExitCode(code);
  };
}
