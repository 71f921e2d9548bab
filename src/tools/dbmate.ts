/**
 * dbmate, run directly from its npm platform package (not its npm wrapper, which reports
 * exit 0 when dbmate dies by a signal and costs 0.17 s). The database URL reaches it through
 * its environment, never argv.
 */
import { createRequire } from 'node:module';
import { ToolError } from '../errors.js';
import { redact } from '../util/redact.js';
import { runTool, type RunResult } from './run.js';

const require = createRequire(import.meta.url);
const URL_VAR = 'PGSTORE_DBMATE_URL';

let resolved: string | undefined;

/** The dbmate binary for this platform (resolved once: ~1.5 ms of module resolution). */
export function dbmateBinary(): string {
  if (resolved) return resolved;
  const name = `@dbmate/${process.platform}-${process.arch}/bin/dbmate${process.platform === 'win32' ? '.exe' : ''}`;
  try {
    resolved = require.resolve(name);
    return resolved;
  } catch {
    throw new ToolError(`dbmate is not installed for ${process.platform}-${process.arch} (${name})`, {
      hint: 'Run `npm install` in the pgstore folder; dbmate comes from npm.',
    });
  }
}

/**
 * Resolves the binary ahead of its first run, two turns of the event loop from now: a caller
 * that has just sent a query (written by the driver on the next turn) lets this run while the
 * server works on it, instead of on the way to dbmate's start. A failure is left for the run
 * to report.
 */
export function resolveDbmateSoon(): void {
  setImmediate(() =>
    setImmediate(() => {
      try {
        dbmateBinary();
      } catch {
        // reported by runDbmate
      }
    }),
  );
}

export interface DbmateOptions {
  /** The database URL (with password); passed through the environment. */
  url: string;
  migrationsDir: string;
  /** `schema.table`, always schema-qualified so that dbmate never guesses. */
  migrationsTable: string;
  timeoutMs?: number;
  /** Called as each file is applied or rolled back (streamed from dbmate's output, for progress). */
  onDone?: (filename: string) => void;
  /**
   * Called at once for each "Applied:" line. dbmate prints it after the file's transaction
   * ended, committed or not (a failed file gets the line too): the file's history row exists
   * exactly when the file was applied.
   */
  onAppliedLine?: (filename: string) => void;
}

/**
 * The file a report line names: "Applied: <file> in <duration>" ("in" may be in the name too:
 * `..._log in users.sql`); "Applying: <file>" has no duration.
 */
function fileOf(rest: string, timed: boolean): string {
  return timed ? rest.trim().replace(/ in \S+$/, '') : rest.trim();
}

/**
 * Calls `onDone` for each file dbmate reports done, as its output streams. A file is reported
 * once dbmate has moved on to the next one (or, by `finish`, ended without an error on it):
 * dbmate may print "Applied:" for a file whose statement then fails.
 */
function doneReporter(onDone: ((filename: string) => void) | undefined, onAppliedLine?: (filename: string) => void) {
  let buffer = '';
  let held: string | undefined;
  const release = () => {
    if (held !== undefined) onDone?.(held);
    held = undefined;
  };
  return {
    chunk(text: string) {
      buffer += text;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        if (line.startsWith('Applying: ') || line.startsWith('Rolling back: ')) release();
        else if (line.startsWith('Applied: ') || line.startsWith('Rolled back: ')) {
          release();
          held = fileOf(line.slice(line.indexOf(': ') + 2), true);
          if (line.startsWith('Applied: ')) onAppliedLine?.(held);
        }
      }
    },
    finish(done: string[]) {
      if (held !== undefined && done.includes(held)) release();
    },
  };
}

export interface DbmateRun extends RunResult {
  /** Files dbmate reported as applied or rolled back, in order. */
  applied: string[];
  rolledBack: string[];
  /** The file dbmate was working on when it stopped (set when it failed). */
  current: string | undefined;
  /** dbmate's own error line, redacted. */
  error: string | undefined;
}

/** Runs one dbmate command (migrate, rollback) and parses what it reports. */
export async function runDbmate(command: 'migrate' | 'rollback', options: DbmateOptions): Promise<DbmateRun> {
  const args = [
    '--env',
    URL_VAR,
    '--env-file',
    '/dev/null', // never read a .env file from the user's folder
    '--migrations-dir',
    options.migrationsDir,
    // Schema-qualified: dbmate 2.x uses the name as given and leaves search_path alone (the
    // old search_path capture, https://github.com/amacneil/dbmate/issues/429, is gone).
    '--migrations-table',
    options.migrationsTable,
    '--no-dump-schema',
    command,
  ];
  const reporter =
    options.onDone || options.onAppliedLine ? doneReporter(options.onDone, options.onAppliedLine) : undefined;
  const result = await runTool(dbmateBinary(), args, {
    onStdout: reporter?.chunk,
    // pgstore read dbmate's configuration itself and passes it as flags; none leaks in twice.
    env: {
      [URL_VAR]: options.url,
      DATABASE_URL: undefined,
      DBMATE_MIGRATIONS_TABLE: undefined,
      DBMATE_MIGRATIONS_DIR: undefined,
      DBMATE_SCHEMA_FILE: undefined,
      DBMATE_NO_DUMP_SCHEMA: undefined,
      DBMATE_STRICT: undefined,
      DBMATE_WAIT: undefined,
      DBMATE_WAIT_TIMEOUT: undefined,
      DBMATE_VERBOSE: undefined,
    },
    timeoutMs: options.timeoutMs ?? 3_600_000,
    allowFailure: true,
  });
  const lines = `${result.stdout}\n${result.stderr}`.split('\n');
  const pick = (prefix: string) =>
    lines
      .filter((l) => l.startsWith(prefix))
      .map((l) => fileOf(l.slice(prefix.length), prefix === 'Applied: ' || prefix === 'Rolled back: '));
  const applying = [...pick('Applying: '), ...pick('Rolling back: ')];
  const applied = pick('Applied: ');
  const rolledBack = pick('Rolled back: ');
  const errorLine = lines.find((l) => l.startsWith('Error: '));
  const current = result.failed ? applying.at(-1) : undefined;
  // dbmate may print "Applied:" for the file whose statement then fails: the error wins.
  const run = {
    ...result,
    applied: applied.filter((file) => file !== current),
    rolledBack: rolledBack.filter((file) => file !== current),
    current,
    error: errorLine ? redact(errorLine.slice('Error: '.length)) : undefined,
  };
  reporter?.finish(command === 'migrate' ? run.applied : run.rolledBack);
  return run;
}
