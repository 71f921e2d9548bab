/**
 * The one way pgstore starts a program: directly (no shell, no npm wrapper), with a timeout,
 * a clean libpq environment, and redacted error output. A death by signal is a failure, and
 * children still running when pgstore exits are killed.
 *
 * Built on node:child_process rather than execa: importing execa 9 costs ~75 ms on this
 * machine (measured), more than a whole `migrate up` may add over dbmate itself.
 */
import { spawn } from 'node:child_process';
import { ToolError } from '../errors.js';
import { redact } from '../util/redact.js';

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
  /** Called with each chunk of stderr as it arrives (progress parsing). */
  onStderr?: (chunk: string) => void;
  /** Called with each chunk of stdout as it arrives (progress parsing). */
  onStdout?: (chunk: string) => void;
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

const running = new Set<ReturnType<typeof spawn>>();
let exitHookInstalled = false;

/** Keeps `child` in the set of children that are stopped (SIGTERM) if pgstore exits first. */
export function trackChild(child: ReturnType<typeof spawn>): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of running) c.kill('SIGTERM');
    });
  }
  running.add(child);
  child.once('close', () => running.delete(child));
}

/**
 * Starts a tiny watcher (sh) that sends SIGTERM to process `pid` if pgstore dies first, even by
 * SIGKILL: Node cannot set PR_SET_PDEATHSIG, but the watcher's stdin is a pipe whose only
 * writer is pgstore, so the kernel closes it when pgstore dies and the watcher's `read` returns.
 * Call the returned function when the child has ended: the watcher then exits without a kill.
 */
export function stopWhenParentDies(pid: number): () => void {
  let watcher: ReturnType<typeof spawn>;
  try {
    watcher = spawn(
      '/bin/sh',
      ['-c', 'read line; [ "$line" = done ] || kill -TERM "$1" 2>/dev/null', 'pgstore-watch', String(pid)],
      {
        stdio: ['pipe', 'ignore', 'ignore'],
        // Its own process group: a Ctrl+C meant for pgstore does not stop the watcher first.
        detached: true,
        env: { PATH: '/usr/bin:/bin' },
      },
    );
  } catch {
    return () => undefined;
  }
  watcher.on('error', () => undefined);
  watcher.stdin!.on('error', () => undefined);
  watcher.unref();
  (watcher.stdin as unknown as { unref?: () => void }).unref?.();
  return () => {
    watcher.stdin!.end('done\n');
  };
}

/**
 * Stops `child` after `timeoutMs` (SIGTERM, then SIGKILL 5 s later), calling `onTimeout`
 * first; returns the timer to clear when the child ends (none without a timeout).
 */
export function killOnTimeout(
  child: ReturnType<typeof spawn>,
  timeoutMs: number | undefined,
  onTimeout: () => void,
): NodeJS.Timeout | undefined {
  if (timeoutMs === undefined) return undefined;
  return setTimeout(() => {
    onTimeout();
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  }, timeoutMs);
}

/** Runs a program and returns its output; throws a ToolError on failure unless allowFailure. */
export async function runTool(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const name = file.split('/').pop() ?? file;
  const result = await new Promise<RunResult>((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, {
        env: childEnv(options.env, options.keepLibpqEnv),
        cwd: options.cwd,
        uid: options.uid,
        gid: options.gid,
        detached: options.detached,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      });
    } catch (error) {
      reject(new ToolError(`could not run ${name}: ${redact((error as Error).message)}`, { cause: error }));
      return;
    }
    trackChild(child);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: Error | undefined;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onStdout?.(chunk);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onStderr?.(chunk);
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = killOnTimeout(child, options.timeoutMs, () => (timedOut = true));
    child.once('error', (error) => (spawnError = error));
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const strip = (text: string) => text.replace(/\r?\n$/, '');
      resolve({
        exitCode: code ?? undefined,
        signal: signal ?? undefined,
        timedOut,
        stdout: strip(stdout),
        stderr: strip(spawnError ? `${stderr}${spawnError.message}` : stderr),
        failed: !!spawnError || timedOut || code !== 0 || signal !== null,
      });
    });
  });
  if (result.failed && !options.allowFailure) {
    throw new ToolError(describeFailure(name, result, options));
  }
  return result;
}

/** One line saying how a program failed, with the end of its stderr, redacted. */
export function describeFailure(
  name: string,
  result: RunResult,
  options: Pick<RunOptions, 'timeoutMs' | 'tailLines'> = {},
): string {
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
