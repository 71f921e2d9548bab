/**
 * pgstore's error classes. Every expected failure is one of these: it carries the
 * process exit code (a documented contract) and a hint telling the user what to do.
 * Only src/cli.ts turns them into output and an exit code. Every class is here (the files that
 * raise them re-export theirs). Not here: a few private signals that never leave their module
 * (store/copy.ts CopyRefused, core/hosts/db.ts Rollback, bulk-load's NotClaimed, health's
 * Timeout): control flow, caught where they are thrown, never shown to anyone.
 */

/** The exit codes pgstore promises (README, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  conflict: 3,
  cancelled: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
  exitCode?: number;
}

/** Base class: an expected failure with an exit code and a hint. */
export class PgstoreError extends Error {
  static readonly code: string = 'PGSTORE_ERROR';
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
  }

  /**
   * The stable code of this kind of failure in JSON output (e.g. PGSTORE_NOT_FOUND); the class's
   * static `code`. Not named `code`: driver-level errors wrapped in a ConnectionError keep their
   * own `code` (ECONNREFUSED, NOT_POSTGRES) for the connection logic.
   */
  get errorCode(): string {
    return (this.constructor as typeof PgstoreError).code;
  }
}

/** Bad flags, bad configuration, bad input: exit 2. */
export class UsageError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_USAGE';
  constructor(message: string, options: Omit<ErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.usage });
  }
}

/** Invalid connection or tool configuration: exit 2. Lists every problem found. */
export class ConfigError extends UsageError {
  static override readonly code: string = 'PGSTORE_CONFIG';
  readonly problems: string[];
  constructor(problems: string[], options: Omit<ErrorOptions, 'exitCode'> = {}) {
    super(problems.join('; '), options);
    this.problems = problems;
  }
}

/** Something else holds what we need (a lock, a port, a busy target): exit 3. */
export class ConflictError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_CONFLICT';
  constructor(message: string, options: Omit<ErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.conflict });
  }
}

/**
 * A table lock not granted in time (lock_timeout, SQLSTATE 55P03; pg_dump's
 * --lock-wait-timeout): exit 3. `table` when known; cli.ts adds the holders and the setting.
 */
export class LockTimeoutError extends ConflictError {
  static override readonly code: string = 'PGSTORE_LOCK_TIMEOUT';
  readonly table: string | undefined;
  constructor(message: string, options: Omit<ErrorOptions, 'exitCode'> & { table?: string | undefined } = {}) {
    super(message, options);
    this.table = options.table;
  }
}

/** The user said no, or pressed Ctrl+C: exit 130. */
export class CancelledError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_CANCELLED';
  constructor(message = 'Cancelled.', options: Omit<ErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.cancelled });
  }
}

/** The database could not be reached or refused us: exit 1. */
export class ConnectionError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_CONNECTION';
}

/** An external program (pg_ctl, dbmate, pg_dump...) failed or is missing: exit 1. */
export class ToolError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_TOOL';
}

/** squawk has no binary for this platform (or it was not installed). */
export class SquawkMissingError extends ToolError {
  static override readonly code: string = 'PGSTORE_SQUAWK_MISSING';
}

/** The embedded server could not be prepared or started: exit 1. */
export class EmbeddedServerError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_EMBEDDED_SERVER';
}

/** True for errors pgstore raised on purpose (no stack trace needed). */
export function isPgstoreError(error: unknown): error is PgstoreError {
  return error instanceof PgstoreError;
}

// ---- Data-layer errors (mapped from SQLSTATE by src/store/map-error.ts; exported by the library)

/** A row that an update, delete or revoke needed does not exist (a get returns null instead). */
export class NotFoundError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_NOT_FOUND';
  readonly entity: string;
  readonly key: string;
  constructor(entity: string, key: string, options: Omit<ErrorOptions, 'exitCode'> = {}) {
    // Exit 2, like any other argument naming nothing that exists (no such backup ID...).
    super(`${entity} ${key === '' ? "''" : key} not found`, {
      hint: options.hint ?? `Check the ${entity} id.`,
      cause: options.cause,
      exitCode: ExitCode.usage,
    });
    this.entity = entity;
    this.key = key;
  }
}

/** A unique value is taken; `field` names which. */
export class DuplicateError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_DUPLICATE';
  readonly entity: string;
  readonly field: string;
  constructor(entity: string, field: string, options: Omit<ErrorOptions, 'exitCode'> & { value?: string } = {}) {
    super(`${entity} with this ${field}${options.value !== undefined ? ` (${options.value})` : ''} already exists`, {
      hint: options.hint ?? `Choose another ${field}.`,
      cause: options.cause,
      exitCode: ExitCode.conflict,
    });
    this.entity = entity;
    this.field = field;
  }
}

/** A hosts entry with the same IP address and hostname is live already. */
export class DuplicateEntryError extends DuplicateError {
  static override readonly code: string = 'PGSTORE_DUPLICATE_ENTRY';
  readonly ipAddress: string;
  readonly hostname: string;
  constructor(ipAddress: string, hostname: string, options: Omit<ErrorOptions, 'exitCode'> = {}) {
    super('host entry', 'ip address and hostname', {
      ...options,
      value: `${ipAddress} ${hostname}`,
      hint: options.hint ?? 'Update the existing entry instead.',
    });
    this.ipAddress = ipAddress;
    this.hostname = hostname;
  }
}

/** A referenced row does not exist (or is still referenced, on delete). */
export class ForeignKeyError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_FOREIGN_KEY';
  readonly constraint: string | undefined;
  constructor(message: string, options: Omit<ErrorOptions, 'exitCode'> & { constraint?: string } = {}) {
    super(message, {
      hint: options.hint ?? 'Check that the referenced record exists.',
      cause: options.cause,
      exitCode: ExitCode.failure,
    });
    this.constraint = options.constraint;
  }
}

/** A value breaks a rule (format, range, required field); `field` names it when known. */
export class ValidationError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_VALIDATION';
  readonly field: string | undefined;
  constructor(message: string, options: Omit<ErrorOptions, 'exitCode'> & { field?: string } = {}) {
    super(message, { hint: options.hint, cause: options.cause, exitCode: ExitCode.usage });
    this.field = options.field;
  }
}

/** Someone else changed the record first (optimistic concurrency): expected vs actual version. */
export class ConcurrentWriteConflictError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_CONCURRENT_WRITE_CONFLICT';
  readonly expected: string | null;
  readonly actual: string | null;
  constructor(
    message: string,
    options: Omit<ErrorOptions, 'exitCode'> & { expected?: string | null; actual?: string | null } = {},
  ) {
    super(message, {
      hint: options.hint ?? 'Reload and try again.',
      cause: options.cause,
      exitCode: ExitCode.conflict,
    });
    this.expected = options.expected ?? null;
    this.actual = options.actual ?? null;
  }
}

// The failures of particular operations (raised in core/; their hints are written where they arise).

/** A failing seed file: which file, which line, the SQL error. Nothing was kept. */
export class SeedFailedError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_SEED_FAILED';
}

/** Lint found error-level statements and --strict was given: exit 1, nothing applied. */
export class MigrationLintError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_MIGRATION_LINT';
}

/** A migration failed: which file, the SQL error, and the state the database is in. */
export class MigrationFailedError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_MIGRATION_FAILED';
}

/** Missing privileges, said plainly. */
export class PrivilegeError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_PRIVILEGE';
}

/** A backup that is damaged: exit 1, and nothing is restored from it. */
export class CorruptBackupError extends PgstoreError {
  static override readonly code: string = 'PGSTORE_CORRUPT_BACKUP';
}
