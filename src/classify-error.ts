/**
 * The last line of defence before "This is a bug": errors that are really problems of the
 * environment or the input (a file system refusal naming a path, a database refusing a
 * value, a server that is not there) become PgstoreErrors with a hint. Code that knows more
 * maps its errors where they arise (migrate-dump.ts, store/map-error.ts); this catches the rest.
 */
import { ConnectionError, ExitCode, PgstoreError, UsageError } from './errors.js';
import { redact } from './util/redact.js';

interface SystemError {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  path?: unknown;
  dest?: unknown;
  address?: unknown;
  port?: unknown;
  message?: unknown;
  severity?: unknown;
  detail?: unknown;
  hint?: unknown;
}

const FS_PROBLEMS: Record<string, { what: string; hint: string; exitCode: number }> = {
  ENOENT: {
    what: 'no such file or folder',
    hint: 'Check the path (and that its parent folders exist).',
    exitCode: ExitCode.usage,
  },
  ENOTDIR: {
    what: 'a part of the path is not a folder',
    hint: 'Check the path: a file stands where a folder is expected.',
    exitCode: ExitCode.usage,
  },
  EISDIR: {
    what: 'is a folder, a file was expected',
    hint: 'Give a file name, not a folder.',
    exitCode: ExitCode.usage,
  },
  EEXIST: { what: 'already exists', hint: 'Choose another path or remove the existing one.', exitCode: ExitCode.usage },
  EACCES: {
    what: 'permission denied',
    hint: 'Check the permissions of the path, or choose another one.',
    exitCode: ExitCode.usage,
  },
  EPERM: {
    what: 'operation not permitted',
    hint: 'Check the permissions of the path, or choose another one.',
    exitCode: ExitCode.usage,
  },
  EROFS: { what: 'read-only file system', hint: 'Choose a writable location.', exitCode: ExitCode.usage },
  ENAMETOOLONG: { what: 'file name too long', hint: 'Choose a shorter path.', exitCode: ExitCode.usage },
  ELOOP: {
    what: 'too many symbolic links',
    hint: 'Check the symbolic links along the path.',
    exitCode: ExitCode.usage,
  },
  EINVAL: {
    what: 'invalid argument for the file system',
    hint: 'Check the path (special files under /proc or /sys cannot be used).',
    exitCode: ExitCode.usage,
  },
  ENOSPC: {
    what: 'no space left on device',
    hint: 'Free some space or choose another location.',
    exitCode: ExitCode.failure,
  },
  EDQUOT: {
    what: 'disk quota exceeded',
    hint: 'Free some space or choose another location.',
    exitCode: ExitCode.failure,
  },
  EIO: { what: 'input/output error', hint: 'Check the disk.', exitCode: ExitCode.failure },
  EMFILE: { what: 'too many open files', hint: 'Raise the open-file limit (ulimit -n).', exitCode: ExitCode.failure },
};

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'CONNECT_TIMEOUT',
]);

/** SQLSTATE classes that mean the input was wrong, not pgstore. */
const INPUT_CLASSES: Record<string, string> = {
  '22': 'the database rejected a value',
  '23': 'the database refused the change (a constraint)',
  '42': 'the database refused the statement',
};

/** A PgstoreError for `error` when it is an environment or input problem; else undefined. */
export function classifyError(error: unknown): PgstoreError | undefined {
  if (error instanceof PgstoreError || typeof error !== 'object' || error === null) return undefined;
  const e = error as SystemError;
  const code = typeof e.code === 'string' ? e.code : '';
  if (typeof e.path === 'string' && typeof e.syscall === 'string' && Object.hasOwn(FS_PROBLEMS, code)) {
    const problem = FS_PROBLEMS[code]!;
    const dest = typeof e.dest === 'string' ? ` -> ${e.dest}` : '';
    return new PgstoreError(`${e.path}${dest}: ${problem.what} (${e.syscall})`, {
      hint: problem.hint,
      exitCode: problem.exitCode,
      cause: error,
    });
  }
  if (CONNECT_CODES.has(code)) {
    const where =
      typeof e.address === 'string' ? ` ${e.address}${e.port !== undefined ? `:${String(e.port)}` : ''}` : '';
    return new ConnectionError(`cannot reach the database server${where}: ${code}`, {
      hint: 'Check that the server runs and the URL (host, port) is right; `pgstore health` checks the connection.',
      cause: error,
    });
  }
  // A postgres.js server error: a five-character SQLSTATE and a severity.
  if (/^[0-9A-Z]{5}$/.test(code) && typeof e.severity === 'string') {
    if (code === '55000' && /not currently accepting connections/.test(String(e.message))) {
      return new UsageError(redact(String(e.message)), {
        hint: 'That database accepts no connections (like template0); name another one.',
        cause: error,
      });
    }
    const what = INPUT_CLASSES[code.slice(0, 2)];
    if (!what) return undefined;
    const detail = typeof e.detail === 'string' && e.detail ? ` (${e.detail})` : '';
    return new UsageError(redact(`${what}: ${String(e.message)}${detail} [SQLSTATE ${code}]`), {
      hint:
        typeof e.hint === 'string' && e.hint ? redact(e.hint) : 'Check the values and names given on the command line.',
      cause: error,
    });
  }
  return undefined;
}
