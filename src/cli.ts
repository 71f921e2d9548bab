/**
 * The pgstore program: builds commander from the explicit list of commands, and is the ONLY
 * place that catches errors, prints them and sets the exit code.
 */
import { constants as osConstants } from 'node:os';
import type { Command, Option } from 'commander';
import type { CommandContext } from './commands/context.js';
import type { ConnectionTarget } from './db/config.js';
import { classifyError } from './classify-error.js';
import { findConfigFile } from './commands/config-file.js';
import { connectEarly } from './commands/early-connect.js';
import { CancelledError, ExitCode, isPgstoreError, UsageError } from './errors.js';
import { finishActiveBars } from './ui/active-bars.js';
import { colorWanted, loadColors, Output, type Streams } from './ui/output.js';
import { redact } from './util/redact.js';
import { criticalSectionsDone } from './util/critical.js';
import { packageVersion } from './util/package-root.js';

/** pgstore's version, from its package.json. */
export function version(): string {
  return packageVersion();
}

interface GlobalFlags {
  databaseUrl?: string;
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  debug?: boolean;
  progress?: 'bar' | 'json' | 'none';
}

/**
 * Builds the commander program; `ctx` gives commands their output and options. With `args`
 * naming a command, only that command is loaded (start-up time), and when the next word names
 * one of its subcommands, only that one is built in full (commands/subcommands.ts); otherwise
 * all are.
 */
export async function buildProgram(ctx: CommandContext, args?: string[]): Promise<Command> {
  const [{ Command, Option }, { COMMANDS, commandNamed }, { reportUnknownSubcommands }, { isPartial, isPlaceholder }] =
    await Promise.all([
      import('commander'),
      import('./commands/index.js'),
      import('./commands/unknown-subcommand.js'),
      import('./commands/subcommands.js'),
    ]);
  const named = args && commandNamed(args);
  const registers = await Promise.all((named ? [named.entry] : COMMANDS).map((c) => c.load()));
  // A command built for one subcommand (placeholders beside it), and how to build it whole:
  // a usage error's hint searches every subcommand's options (usageHint).
  const whole = new Map<Command, () => Command>();
  const program = new Command('pgstore')
    .description(
      'Run the PostgreSQL side of an application: set up, migrate, seed, back up, restore and check a database, manage hosts entries, and run an embedded server.',
    )
    .version(version(), '-V, --version', 'print the pgstore version')
    .addOption(
      new Option(
        '-d, --database-url <url>',
        'PostgreSQL URL (else DATABASE_URL, PG* variables, or the embedded server)',
      ),
    )
    .option('--json', 'print results as JSON on stdout')
    .option('-q, --quiet', 'print nothing on success (errors still go to stderr)')
    .option('--no-color', 'no colour (also: NO_COLOR=1)')
    .option('--debug', 'print stack traces and debug details')
    .addOption(
      new Option(
        '--progress <mode>',
        'progress of long jobs on stderr: a bar on a terminal, json (one NDJSON event a line), or none',
      )
        .choices(['bar', 'json', 'none'])
        .default('bar'),
    )
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure, 2 usage or config error (or no such ID), 3 conflict or lock held, 130 cancelled.\n' +
        'With no --database-url, DATABASE_URL or PG* variables, pgstore runs on its embedded PostgreSQL.\n\n' +
        'Examples:\n  $ pgstore health\n  $ pgstore server status --json\n  $ DATABASE_URL=postgres://app@db.example.com/app pgstore health --format nagios',
    );
  // Options after a subcommand's name are that subcommand's (positional options): a subcommand
  // may reuse a parent's option name, as `backup list --format ndjson` does beside pg_dump's
  // `backup --format` (a parent that reuses one turns positional options on too). The program's
  // own options are still read anywhere: every command carries hidden copies (globalFlags()).
  program.enablePositionalOptions();
  const globals = program.options.filter((o) => o.long !== '--version');
  const carryGlobals = (command: Command): void => {
    for (const g of globals) {
      if (command.options.some((o) => o.long === g.long || (g.short && o.short === g.short))) continue;
      const copy = new Option(g.flags, g.description).hideHelp();
      if (g.argChoices) copy.choices(g.argChoices);
      command.addOption(copy);
    }
  };
  program.exitOverride();
  program.configureOutput({
    writeOut: (text) => ctx.streams.stdout.write(text),
    // With --json, stderr carries one JSON error object (reportJson): not the help commander
    // prints before a missing-command error, nor its usage line.
    writeErr: (text) => (wantsJson(args ?? []) ? undefined : ctx.streams.stderr.write(text)),
    outputError: (text, write) => {
      // The program's own errors (a command's set their hint first).
      if (!usageHints.has(ctx)) usageHints.set(ctx, usageHint(program, 'pgstore', text, whole));
      if (!wantsJson(args ?? []))
        write(`${ctx.makeOutput({ color: true }).c.red('error:')} ${oneLine(text).replace(/^error: /, '')}\n`);
    },
  });
  // Every command at every depth reports usage errors the same way (exit 2, one line, a hint).
  const adopt = (command: Command, path: string): void => {
    command.exitOverride().configureHelp({ showGlobalOptions: true, visibleGlobalOptions: acceptedGlobalOptions });
    carryGlobals(command);
    const output = program.configureOutput();
    command.configureOutput({
      ...output,
      outputError: (text, write) => {
        usageHints.set(ctx, usageHint(program, path, text, whole));
        output.outputError?.(text, write);
      },
    });
    for (const option of command.options) hintCommandHelp(option, path);
    if (command.commands.length > 0) reportUnknownSubcommands(command, path);
    // A placeholder is never parsed (commands/subcommands.ts).
    for (const sub of command.commands) if (!isPlaceholder(sub)) adopt(sub, `${path} ${sub.name()}`);
  };
  for (const register of registers) {
    const command = register(ctx, named?.subcommand);
    if (isPartial(command)) whole.set(command, () => register(ctx));
    adopt(command, `pgstore ${command.name()}`);
    program.addCommand(command);
  }
  reportUnknownSubcommands(program, 'pgstore');
  return program;
}

/**
 * The parents' options a subcommand's help lists: those still read after its name. The
 * program's are (every command carries copies); a parent with positional options (commander's
 * enablePositionalOptions, e.g. `backup`, whose --format is pg_dump's) reads its own only before
 * the subcommand's name, so they are not the subcommand's. commander's own list
 * (Help.visibleGlobalOptions) has every ancestor's; the flag it keeps is `_enablePositionalOptions`
 * (commander 14, lib/command.js), with no public getter.
 */
function acceptedGlobalOptions(command: Command): Option[] {
  const options: Option[] = [];
  for (let parent = command.parent; parent; parent = parent.parent) {
    const positional = (parent as unknown as { _enablePositionalOptions?: boolean })._enablePositionalOptions;
    if (positional && parent.parent) continue;
    // --version is the program's alone (`pgstore backup list -V` is an unknown option).
    options.push(
      ...parent.options.filter((option) => !option.hidden && (parent.parent || option.long !== '--version')),
    );
  }
  return options;
}

/** The program's options as given: on the command line after any command's name, else the program's value. */
function globalFlags(action: Command): Record<string, unknown> {
  let program = action;
  while (program.parent) program = program.parent;
  const flags: Record<string, unknown> = {};
  for (const option of program.options) {
    const key = option.attributeName();
    flags[key] = program.getOptionValue(key);
    for (let c: Command | null = action; c?.parent; c = c.parent) {
      const source = c.getOptionValueSource(key);
      if (source !== undefined && source !== 'default') {
        flags[key] = c.getOptionValue(key);
        break;
      }
    }
  }
  return flags;
}

const GENERIC_USAGE_HINT = 'run `pgstore --help` or `pgstore <command> --help`';
/** The hint for the usage error commander reported last, by the command that reported it. */
const usageHints = new WeakMap<CommandContext, string>();

/** commander's "unknown option '--limt'\n(Did you mean --limit?)" as one line. */
function oneLine(text: string): string {
  return text.trimEnd().replace(/\n\(Did you mean (.+?)\?\)/, ' (did you mean $1?)');
}

/**
 * A usage error's hint: the help of the command that refused it; for an unknown option that
 * another command has (`backup list --keep-last 1`), which commands take it.
 */
function usageHint(program: Command, path: string, text: string, whole: Map<Command, () => Command>): string {
  const option = /unknown option '(--?[\w-]+)/.exec(text)?.[1];
  if (option) {
    const owners: string[] = [];
    const visit = (command: Command, at: string): void => {
      if (command.options.some((o) => !o.hidden && (o.long === option || o.short === option))) owners.push(at);
      for (const sub of command.commands) visit(sub, `${at} ${sub.name()}`);
    };
    for (const command of program.commands) visit(whole.get(command)?.() ?? command, `pgstore ${command.name()}`);
    if (owners.length > 0 && !owners.includes(path))
      return `${option} is an option of ${owners.map((o) => `\`${o}\``).join(', ')} (a command's options follow its name); see \`${path} --help\`.`;
  }
  return commandHelp(path);
}

/** The hint of a usage error that one command refused: its help. */
function commandHelp(path: string): string {
  return `See \`${path} --help\`.`;
}

/**
 * A bad option value (commands/parse.ts: `--limit abc`) is a UsageError thrown by the option's
 * parser, which does not know the command: one without a hint gets the help of the command
 * whose option it is, as commander's own errors do (usageHint).
 */
function hintCommandHelp(option: Option, path: string): void {
  const parse = option.parseArg;
  if (!parse) return;
  option.parseArg = ((value: string, previous: unknown) => {
    try {
      return parse(value, previous);
    } catch (error) {
      if (error instanceof UsageError && error.hint === undefined)
        throw new UsageError(error.message, { hint: commandHelp(path) });
      throw error;
    }
  }) as typeof option.parseArg;
}

/** How long a stop signal lets pending output drain before pgstore exits. */
const STOP_FLUSH_MS = 300;

/** Runs pgstore with `argv` and exits with the documented code (the binary's entry). */
export async function main(
  argv: string[],
  streams: Streams = {
    stdout: process.stdout,
    stderr: process.stderr,
    // Made on first use: Node builds process.stdin (a file, pipe or TTY stream, ~2-3 ms of CPU)
    // when it is first read, and most runs (health, migrate) never read it.
    get stdin() {
      return process.stdin;
    },
  },
): Promise<void> {
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    // Answered before loading anything else: scripts call this often.
    streams.stdout.write(`${version()}\n`);
    await flush(streams);
    process.exit(ExitCode.ok);
  }
  // `pgstore ... | head` closes the pipe early: that is not an error.
  for (const stream of [streams.stdout, streams.stderr]) {
    stream.on?.('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(ExitCode.ok);
    });
  }
  // Ctrl+C cancels (130). SIGTERM (cron's `timeout`, `kill`) and SIGHUP stop pgstore with
  // 128 + the signal's number, as a shell reports it; either way the exit hook stops the
  // programs pgstore started (tools/run.ts), which a signal sent to pgstore alone never reaches.
  let stopCode: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? ExitCode.cancelled : 128 + (osConstants.signals[signal] ?? 0);
    // A second signal: stop now (process.exit still runs the exit hook that stops children).
    if (stopCode !== undefined) process.exit(stopCode);
    stopCode = code;
    // A progress bar's line ends first (cleared, drawing no more): "Cancelled." on a line of its own.
    finishActiveBars();
    streams.stderr.write(signal === 'SIGINT' ? 'Cancelled.\n' : `Stopped by ${signal}.\n`);
    // No new critical step starts from now on; one already running finishes first, for up to
    // 15 s (util/critical.ts); output gets a moment to drain, never more: stdout may be a pipe
    // nobody reads, and a stop must take under a second.
    void criticalSectionsDone(15_000, { stopping: true })
      .then(() => Promise.race([flush(streams), new Promise((resolve) => setTimeout(resolve, STOP_FLUSH_MS))]))
      .then(() => process.exit(code));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  // run() resolves once its output has drained; the handlers stay until then, so a stop during
  // a long drain (a slow pipe) still ends with 128 + the signal's number.
  const code = await run(argv, streams, process.env);
  for (const signal of signals) process.off(signal, onSignal);
  process.exit(stopCode ?? code); // a stop that came while finishing still reports the stop
}

/**
 * Runs pgstore with `argv` (node, script, args...) on `streams` and `env`, and resolves with
 * the exit code. Never exits the process and installs no process-wide handlers: tests call it
 * in-process, and `main` wraps it.
 */
export async function run(argv: string[], streams: Streams, env: Record<string, string | undefined>): Promise<number> {
  let flags: GlobalFlags = {};
  let commandExitCode: number = ExitCode.ok;
  // The connection resolver, loaded before an action runs (never for --help or --version), and
  // the one target it resolves for this run: every core call of the command gets that object.
  let config: typeof import('./db/config.js') | undefined;
  let lockTimeout: typeof import('./db/lock-timeout.js') | undefined;
  let target: ConnectionTarget | undefined;
  // The command about to run (`backup`, `hosts`): every one but `migrate` gets PGSTORE_LOCK_TIMEOUT.
  let commandName: string | undefined;
  const ctx: CommandContext = {
    env,
    streams,
    makeOutput(overrides = {}) {
      return new Output(
        {
          json: !!flags.json,
          quiet: !!flags.quiet,
          debug: !!flags.debug,
          progress: flags.progress ?? 'bar',
          color: colorWanted(flags.color !== false && overrides.color !== false, env, streams),
        },
        streams,
      );
    },
    setExitCode(code) {
      commandExitCode = code;
    },
    setFlags(value) {
      flags = value as GlobalFlags;
    },
    target() {
      if (target) return target;
      const resolved = config!.resolveConnection({ databaseUrl: flags.databaseUrl, env: ctx.env });
      // migrate sets lock_timeout per migration itself (--lock-timeout, with retries).
      target =
        commandName === 'migrate'
          ? resolved
          : lockTimeout!.withLockTimeout(resolved, lockTimeout!.lockTimeoutFromEnv(ctx.env));
      return target;
    },
    embedded() {
      return config!.resolveEmbedded({ env: ctx.env });
    },
    async allCommands() {
      const { COMMANDS } = await import('./commands/index.js');
      return Promise.all(COMMANDS.map(async (entry) => (await entry.load())(ctx)));
    },
  };

  let code: number = ExitCode.ok;
  let closeEarly: (() => void) | undefined;
  try {
    if (colorWanted(!argv.includes('--no-color'), env, streams)) await loadColors();
    const project = await loadProject(env);
    ctx.project = project;
    ctx.env = project.mergedEnv;
    closeEarly = await connectEarly(argv.slice(2), ctx.env);
    const program = await buildProgram(ctx, argv.slice(2));
    program.hook('preAction', async (_root, action) => {
      if (project.config) (await import('./commands/project-config.js')).applyConfigOptions(action, project.config);
      const flags = { ...action.optsWithGlobals(), ...globalFlags(action) };
      refuseTwoOutputs(action, flags.json === true);
      ctx.setFlags(flags);
      for (let c: Command | null = action; c?.parent; c = c.parent) commandName = c.name();
      config ??= await import('./db/config.js');
      lockTimeout ??= await import('./db/lock-timeout.js');
    });
    await program.parseAsync(argv);
    code = commandExitCode;
  } catch (caught) {
    let error = caught;
    // A lock not granted in time: the table, its holders, and how to wait longer (exit 3).
    // (migrate reports its own: --lock-timeout with retries.)
    if (target && commandName !== 'migrate') {
      const explained = await import('./db/lock-wait.js')
        .then((m) => m.explainLockTimeout(error, target!))
        .catch(() => undefined);
      error = explained ?? error;
    }
    const json = wantsJson(argv.slice(2)) || flags.json === true;
    code = json ? reportJson(error, ctx, flags) : report(error, ctx, flags);
    // A monitor reads stdout and the plugin codes: what stopped the check itself (a bad flag,
    // a bad URL) is UNKNOWN (3) there, not CRITICAL (2, pgstore's usage code).
    if (!json && wantsNagios(argv.slice(2)) && code !== ExitCode.ok && code < 128 && code !== ExitCode.cancelled) {
      const message = oneLine(String((error as Error)?.message ?? error)).replace(/^error: /, '');
      streams.stdout.write(`PGSTORE UNKNOWN - ${redact(message)}\n`);
      code = NAGIOS_UNKNOWN;
    }
  }
  closeEarly?.();
  await flush(streams);
  return code;
}

/** The project's pgstore.toml (flag > environment > file > default), loaded only when there is one. */
async function loadProject(env: Record<string, string | undefined>) {
  const path = findConfigFile(process.cwd(), env);
  if (!path) return { path, config: undefined, env, mergedEnv: env };
  const { loadProjectConfig, withConfigEnv } = await import('./commands/project-config.js');
  const config = await loadProjectConfig(path);
  return { path, config, env, mergedEnv: withConfigEnv(env, config) };
}

/**
 * `hosts list --format csv --json`: two output formats asked for. An output --format (one whose
 * choices include json or ndjson; backup's --format is pg_dump's) given on the command line
 * other than json is refused beside --json, instead of --json silently winning.
 */
function refuseTwoOutputs(action: Command, json: boolean): void {
  if (!json || action.getOptionValueSource('format') !== 'cli') return;
  const option = action.options.find((o) => o.long === '--format');
  const format = action.getOptionValue('format');
  if (!option?.argChoices?.some((c) => c === 'json' || c === 'ndjson') || format === 'json') return;
  throw new UsageError(`--json and --format ${format} ask for two different outputs`, {
    hint: `Choose one: --json (one JSON document) or --format ${format}.`,
  });
}

const NAGIOS_UNKNOWN = 3;

/** The arguments pgstore reads as options and commands: those before a `--`. */
function optionWords(args: string[]): string[] {
  const end = args.indexOf('--');
  return end === -1 ? args : args.slice(0, end);
}

/** True when the arguments ask for `health --format nagios`. */
function wantsNagios(args: string[]): boolean {
  const words = optionWords(args);
  if (!words.includes('health')) return false;
  return words.includes('--format=nagios') || words.some((w, i) => w === '--format' && words[i + 1] === 'nagios');
}

/** True when the arguments ask for JSON. */
function wantsJson(args: string[]): boolean {
  return optionWords(args).includes('--json');
}

/**
 * With --json, an error is one JSON object on stderr: {"error": {code, message, hint, exitCode}}
 * (docs/json.md); the code is stable (PGSTORE_NOT_FOUND...), the message is for people.
 */
function reportJson(error: unknown, ctx: CommandContext, flags: GlobalFlags): number {
  let body: { code: string; message: string; hint: string | null; exitCode: number };
  if (isCommanderError(error)) {
    if (['commander.helpDisplayed', 'commander.version'].includes(error.code)) return ExitCode.ok;
    if (error.code === 'commander.help' && error.exitCode === 0) return ExitCode.ok;
    const message =
      error.code === 'commander.help'
        ? 'a command is needed'
        : oneLine((error as unknown as Error).message).replace(/^error: /, '');
    body = {
      code: 'PGSTORE_USAGE',
      message,
      hint: usageHints.get(ctx) ?? GENERIC_USAGE_HINT,
      exitCode: ExitCode.usage,
    };
  } else {
    if (isExitPromptError(error)) error = new CancelledError();
    error = classifyError(error) ?? error;
    if (isPgstoreError(error)) {
      body = {
        code: error.errorCode,
        message: redact(error.message),
        hint: error.hint === undefined ? null : redact(error.hint),
        exitCode: error.exitCode,
      };
    } else {
      body = {
        code: 'PGSTORE_INTERNAL',
        message: `unexpected error: ${redact((error as Error)?.message ?? String(error))}`,
        hint: 'This is a bug in pgstore; please report it with the output of --debug.',
        exitCode: ExitCode.failure,
      };
    }
    if (flags.debug) ctx.streams.stderr.write(`${stackOf(error)}\n`);
  }
  ctx.streams.stderr.write(`${JSON.stringify({ error: body })}\n`);
  return body.exitCode;
}

/** Prints an error the documented way and returns its exit code. */
function report(error: unknown, ctx: CommandContext, flags: GlobalFlags): number {
  const out = ctx.makeOutput();
  if (isCommanderError(error)) {
    if (['commander.helpDisplayed', 'commander.version'].includes(error.code)) return ExitCode.ok;
    if (error.code === 'commander.help') {
      if (error.exitCode === 0) return ExitCode.ok;
      // `pgstore hosts`: no subcommand. commander printed the help (to stderr); say why it did.
      out.error('a command is needed', 'Choose one of the commands listed above.');
      return ExitCode.usage;
    }
    // commander has printed its one-line message already.
    ctx.streams.stderr.write(`${out.c.dim('hint:')} ${usageHints.get(ctx) ?? GENERIC_USAGE_HINT}\n`);
    return ExitCode.usage;
  }
  if (isExitPromptError(error)) error = new CancelledError();
  if (error instanceof CancelledError) {
    ctx.streams.stderr.write(`${error.message}\n`);
    return error.exitCode;
  }
  error = classifyError(error) ?? error;
  if (isPgstoreError(error)) {
    out.error(error.message, error.hint, flags.debug ? stackOf(error) : undefined);
    return error.exitCode;
  }
  out.error(
    `unexpected error: ${(error as Error)?.message ?? String(error)}`,
    'This is a bug in pgstore; please report it with the output of --debug.',
    flags.debug || ctx.env.PGSTORE_DEBUG ? stackOf(error) : undefined,
  );
  return ExitCode.failure;
}

function isCommanderError(error: unknown): error is { code: string; exitCode: number } {
  return (
    typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('commander.')
  );
}

function isExitPromptError(error: unknown): boolean {
  return (error as Error)?.name === 'ExitPromptError';
}

function stackOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error) {
    parts.push(redact(current.stack ?? current.message));
    current = current.cause;
  }
  return parts.join('\ncaused by: ');
}

async function flush(streams: Streams): Promise<void> {
  await Promise.all(
    [streams.stdout, streams.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))),
  );
}
