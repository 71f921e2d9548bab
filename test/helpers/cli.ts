/**
 * Runs the built binary (bin/pgstore.js) as a child process and captures what it prints.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const BIN = fileURLToPath(new URL('../../bin/pgstore.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
  cwd?: string;
}

/** An environment with no connection settings of the caller's, plus `extra`. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      value === undefined ||
      // Node parses this CA bundle at every start (~60 ms of CPU each here: README, "Benchmarks");
      // the CLI's children in tests talk to loopback servers only, and never by TLS to a public CA.
      key === 'NODE_EXTRA_CA_CERTS' ||
      /^PG[A-Z]+$/.test(key) ||
      key === 'DATABASE_URL' ||
      key === 'DATABASE_REPLICA_URL' ||
      key.startsWith('DB_')
    )
      continue;
    env[key] = value;
  }
  env.NO_COLOR = '1';
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** The environment that makes the binary's embedded default the test server. */
export function testServerEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const server = inject('pgServer');
  return cleanEnv({ PGSTORE_HOME: server.home, PGSTORE_PORT: String(server.port), ...extra });
}

/** Runs `pgstore args...` and resolves with its exit code and output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: options.env ?? testServerEnv(),
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // Decoded as a stream: a character split between two chunks stays whole (d.toString() per
    // chunk turned one of a large table's '─' into two U+FFFD now and then).
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
