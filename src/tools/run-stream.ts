/**
 * Long-running client programs (pg_dump, pg_restore, psql) whose output is too large to keep
 * or must be read as it arrives: stderr is delivered line by line (for progress) and only its
 * tail is kept; stdin can be a stream (a dump file fed to psql). Same rules as runTool: started
 * directly, a clean libpq environment, a timeout, and a death by signal counts as failure.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ToolError } from '../errors.js';
import { redact } from '../util/redact.js';
import { childEnv, killOnTimeout, type RunResult, stopWhenParentDies, trackChild } from './run.js';

export interface StreamRunOptions {
  /** Variables added to the child's environment (the parent's PG* variables are removed). */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Fed to the child's stdin (its end closes stdin); none: stdin is /dev/null. */
  stdin?: Readable;
  /** Called with each complete line of stderr. */
  onStderrLine?: (line: string) => void;
  /** Lines of stderr kept for the failure message (default 200). */
  keepLines?: number;
  /** Aborting stops the program (SIGTERM); it then counts as failed. */
  signal?: AbortSignal | undefined;
  /**
   * Where the child's stdout goes, with backpressure (the child blocks when it is slow); the
   * run ends when it has finished. Its failure (a full disk) fails the run. Default: kept, up to 1 MB.
   */
  stdout?: Writable;
  /** SIGTERM the child if pgstore dies first, even by SIGKILL (see stopWhenParentDies). */
  dieWithParent?: boolean;
}

/** Runs a program to completion; never throws for a failed exit (see RunResult.failed). */
export function runStreaming(file: string, args: string[], options: StreamRunOptions = {}): Promise<RunResult> {
  const name = file.split('/').pop() ?? file;
  const keep = options.keepLines ?? 200;
  return new Promise<RunResult>((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, args, {
        env: childEnv(options.env),
        stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      reject(new ToolError(`could not run ${name}: ${redact((error as Error).message)}`, { cause: error }));
      return;
    }
    trackChild(child);
    const tail: string[] = [];
    let partial = '';
    let stdout = '';
    let timedOut = false;
    let spawnError: Error | undefined;
    const takeLine = (line: string) => {
      tail.push(line);
      if (tail.length > keep) tail.shift();
      options.onStderrLine?.(line);
    };
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) takeLine(line);
    });
    const release = options.dieWithParent && child.pid !== undefined ? stopWhenParentDies(child.pid) : undefined;
    let piped: Promise<void> | undefined;
    if (options.stdout) {
      piped = pipeline(child.stdout!, options.stdout).catch((error: Error) => {
        // The sink failed (ENOSPC...): stop the child; the run fails with this error.
        spawnError ??= error;
        child.kill('SIGTERM');
      });
    } else {
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        if (stdout.length < 1_000_000) stdout += chunk;
      });
    }
    if (options.stdin && child.stdin) {
      // psql stopping early (ON_ERROR_STOP) closes its stdin: that is reported by its exit code.
      child.stdin.on('error', () => undefined);
      options.stdin.on('error', (error) => {
        spawnError ??= error;
        child.kill('SIGTERM');
      });
      options.stdin.pipe(child.stdin);
    }
    const timer = killOnTimeout(child, options.timeoutMs, () => (timedOut = true));
    let settled = false;
    const stop = () => child.kill('SIGTERM');
    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener('abort', stop, { once: true });
    child.on('error', (error) => {
      spawnError = error;
      if (child.pid === undefined && !settled) {
        // It never started (missing, not executable).
        settled = true;
        if (timer) clearTimeout(timer);
        reject(new ToolError(`could not run ${name}: ${redact(error.message)}`, { cause: error }));
      }
    });
    child.on('close', async (code, signal) => {
      if (timer) clearTimeout(timer);
      release?.();
      options.signal?.removeEventListener('abort', stop);
      options.stdin?.unpipe();
      if (settled) return;
      settled = true;
      if (piped) await piped;
      if (partial) takeLine(partial);
      const stderr = tail.join('\n') + (spawnError ? `\n${spawnError.message}` : '');
      resolve({
        exitCode: code ?? undefined,
        signal: signal ?? undefined,
        timedOut,
        stdout,
        stderr,
        failed: code !== 0 || signal !== null || timedOut || !!spawnError,
      });
    });
  });
}
