/**
 * squawk (https://squawkhq.com), the PostgreSQL migration linter, run directly from its npm
 * platform package (@squawk-cli/<platform>-<arch>, an optional dependency of squawk-cli that
 * ships the binary itself: no download at install time). SQL reaches it on stdin.
 */
import { createRequire } from 'node:module';
import { SquawkMissingError, ToolError } from '../errors.js';
import { describeFailure, runTool } from './run.js';

export { SquawkMissingError } from '../errors.js';

const require = createRequire(import.meta.url);

/** The squawk binary for this platform. */
export function squawkBinary(): string {
  const name = `@squawk-cli/${process.platform}-${process.arch}/bin/squawk${process.platform === 'win32' ? '.exe' : ''}`;
  try {
    return require.resolve(name);
  } catch {
    throw new SquawkMissingError(`squawk is not installed for ${process.platform}-${process.arch} (${name})`, {
      hint: 'Run `npm install` in the pgstore folder (squawk-cli ships linux-x64, linux-arm64, darwin and win32-x64 binaries), or skip linting with --no-lint.',
    });
  }
}

/** One finding as squawk's JSON reporter prints it (lines and columns count from 0). */
export interface SquawkFinding {
  file: string;
  line: number;
  column: number;
  level: 'Warning' | 'Error';
  message: string;
  help: string | null;
  rule_name: string;
  line_end: number;
  column_end: number;
}

export interface SquawkInput {
  /** The SQL to lint. */
  sql: string;
  /** The name squawk reports. */
  filepath: string;
  /** Whether a migration tool wraps this SQL in a transaction. */
  inTransaction: boolean;
  /** e.g. "15.0": rules that depend on the server version use it. */
  pgVersion?: string | undefined;
  /** Rules not to report (e.g. require-lock-timeout when the runner sets one itself). */
  exclude?: string[] | undefined;
}

/** Lints one piece of SQL; squawk exits 1 when it finds something, which is not a failure. */
export async function runSquawk(input: SquawkInput): Promise<SquawkFinding[]> {
  const args = ['--reporter', 'json', '--stdin-filepath', input.filepath, ...commonArgs(input)];
  return squawkJson(args, input.sql);
}

const commonArgs = (input: Omit<SquawkInput, 'sql' | 'filepath'>) => [
  input.inTransaction ? '--assume-in-transaction' : '--no-assume-in-transaction',
  ...(input.pgVersion ? ['--pg-version', input.pgVersion] : []),
  ...(input.exclude?.length ? ['--exclude', input.exclude.join(',')] : []),
];

/**
 * Lints many files in one squawk run (each spawn costs ~10-40 ms; a project may have hundreds
 * of pending files). Each finding's `file` is the path as given.
 */
export async function runSquawkFiles(
  paths: string[],
  input: Omit<SquawkInput, 'sql' | 'filepath'>,
): Promise<SquawkFinding[]> {
  if (paths.length === 0) return [];
  return squawkJson(['--reporter', 'json', ...commonArgs(input), ...paths], undefined);
}

async function squawkJson(args: string[], stdin: string | undefined): Promise<SquawkFinding[]> {
  const result = await runTool(squawkBinary(), args, { input: stdin, timeoutMs: 60_000, allowFailure: true });
  if (result.timedOut || result.signal || (result.exitCode !== 0 && result.exitCode !== 1)) {
    throw new ToolError(describeFailure('squawk', result, { timeoutMs: 60_000 }), {
      hint: '`pgstore migrate up --no-lint` skips the check; please report the file that makes squawk fail.',
    });
  }
  const text = result.stdout.trim();
  if (!text) return [];
  try {
    return JSON.parse(text) as SquawkFinding[];
  } catch (error) {
    throw new ToolError(`squawk printed something that is not JSON: ${text.slice(0, 200)}`, { cause: error });
  }
}
