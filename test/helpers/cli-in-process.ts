/**
 * Runs pgstore's entry (src/cli.ts `run`) in-process, with captured streams and a given
 * environment: hundreds of invocations in seconds instead of a node start-up each (~0.3-0.4 s
 * idle, seconds on a busy machine). The same parsing, output and exit codes as the binary;
 * what only a process has (signals, start-up loading, `--version`'s early exit, a working
 * folder, concurrency between processes) stays with runCli (test/helpers/cli.ts).
 *
 * What an in-process run still takes from the test worker's process rather than from `env`
 * (src/ reads them directly; the binary gets them from the env it was started with):
 * - the programs pgstore starts (pg_dump, pg_restore, dbmate, pgbackrest) inherit the worker's
 *   process.env plus pgstore's extras (tools/run.ts childEnv; tools/pgbackrest.ts unsets the
 *   worker's PGBACKREST_* names, not env's);
 * - relative paths and ./db/migrations, ./db/schema.sql, pgstore.toml are looked up from the
 *   worker's folder (cli.ts loadProject's process.cwd(), path.resolve throughout): the
 *   repository's root, which has none of them; give absolute paths or DBMATE_* variables;
 * - ~ (~/.pgpass, the default PGSTORE_HOME) and the temporary folder are the worker's HOME and
 *   TMPDIR (os.homedir(), os.tmpdir()), not env's;
 * - module state lives on between runs and files (vitest isolate:false): client versions cached
 *   by path (tools/pg-client.ts; a new wrapper needs a new path), secrets registered for
 *   redaction (util/redact.ts), the exit hook of tools/run.ts (installed once, harmless).
 */
import { Readable, Writable } from 'node:stream';
import { run } from '../../src/cli.js';
import { type CliOptions, type CliResult, testServerEnv } from './cli.js';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

function capture(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * Runs `pgstore ...args` in this process; resolves with the exit code and what it printed.
 * `stderrTerminal`: stderr says it is a terminal (100 columns), so progress bars draw.
 */
export async function runInProcess(
  args: string[],
  env: Record<string, string | undefined>,
  stdin = '',
  { stderrTerminal = false } = {},
): Promise<InProcessResult> {
  const stdout = capture();
  const stderr = capture();
  if (stderrTerminal) Object.assign(stderr.stream, { isTTY: true, columns: 100 });
  const input = Object.assign(Readable.from([stdin]), { isTTY: false });
  const code = await run(
    ['node', 'pgstore', ...args],
    { stdout: stdout.stream, stderr: stderr.stream, stdin: input },
    env,
  );
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** runCli's twin in-process: same options (no cwd), same result shape (never a signal). */
export async function runCliInProcess(
  args: string[],
  options: CliOptions & { stderrTerminal?: boolean } = {},
): Promise<CliResult> {
  if (options.cwd)
    throw new Error('runCliInProcess: no cwd in-process (process.chdir would change every test); use runCli');
  const r = await runInProcess(args, options.env ?? testServerEnv(), options.input ?? '', {
    stderrTerminal: options.stderrTerminal,
  });
  return { ...r, signal: null };
}
