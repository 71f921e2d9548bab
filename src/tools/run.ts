/**
 * The one way pgstore starts a program: directly (no shell, no npm wrapper), with a timeout,
 * a clean libpq environment, and redacted error output. A death by signal is a failure.
 */
import { ToolError } from '../errors.js';
import { redact } from '../db/redact.js';

export interface RunOptions {
  /** Variables added to the child's environment (after PG* variables are removed). */
  env?: Record<string, string | undefined>;
  /** Keep the parent's PG* variables (default: removed, so only what we pass applies). */
  keepLibpqEnv?: boolean;
  timeoutMs?: number;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Start in its own session, so Ctrl+C at the terminal does not reach it. */
  detached?: boolean;
  /** Text for the child's stdin. */
  input?: string;
  /** Don't throw on a non-zero exit; the caller inspects the result. */
  allowFailure?: boolean;
  /** Lines of stderr to show in a failure message. */
  tailLines?: number;
}

export interface RunResult {
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  failed: boolean;
}

/** The parent's environment without libpq variables, plus `extra`. */
export function childEnv(extra: Record<string, string | undefined> = {}, keepLibpq = false): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (!keepLibpq && /^PG[A-Z]+$/.test(key)) continue;
    env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs a program and returns its output; throws a ToolError on failure unless allowFailure. */
export async function runTool(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const { execa } = await import('execa');
  const name = file.split('/').pop() ?? file;
  let result;
  try {
    result = await execa(file, args, {
      env: childEnv(options.env, options.keepLibpqEnv),
      extendEnv: false,
      timeout: options.timeoutMs,
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
      detached: options.detached,
      input: options.input,
      stdin: options.input === undefined ? 'ignore' : undefined,
      reject: false,
      stripFinalNewline: true,
      encoding: 'utf8',
    });
  } catch (error) {
    throw new ToolError(`could not run ${name}: ${redact((error as Error).message)}`, { cause: error });
  }
  const out: RunResult = {
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    failed: result.failed,
  };
  if (out.failed && !options.allowFailure) {
    throw new ToolError(describeFailure(name, out, options), { cause: result });
  }
  return out;
}

/** One line saying how a program failed, with the end of its stderr, redacted. */
export function describeFailure(name: string, result: RunResult, options: Pick<RunOptions, 'timeoutMs' | 'tailLines'> = {}): string {
  let how: string;
  if (result.timedOut) how = `timed out after ${Math.round((options.timeoutMs ?? 0) / 1000)} s`;
  else if (result.signal) how = `was killed by ${result.signal}`;
  else if (result.exitCode === undefined) how = 'could not be started';
  else how = `exited with code ${result.exitCode}`;
  const detail = (result.stderr || result.stdout)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-(options.tailLines ?? 3))
    .join(' | ');
  return redact(`${name} ${how}${detail ? `: ${detail}` : ''}`);
}
