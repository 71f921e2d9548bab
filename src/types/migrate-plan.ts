/**
 * What `pgstore migrate plan` reports (core/migrate-plan produces it, ui/migrate-plan-view.ts
 * draws it), with the shapes it is made of: lint findings, statement locks, locks held.
 */

export type SetName = 'pgstore' | 'app';

export type LintLevel = 'error' | 'warning';

export interface LintFinding {
  /** The path as given (or the file name inside the migrations folder). */
  file: string;
  /** 1-based line and column in the file. */
  line: number;
  column: number;
  rule: string;
  level: LintLevel;
  message: string;
  /** What to do instead. */
  alternative: string;
}

export type LockMode =
  | 'ACCESS SHARE'
  | 'ROW SHARE'
  | 'ROW EXCLUSIVE'
  | 'SHARE UPDATE EXCLUSIVE'
  | 'SHARE'
  | 'SHARE ROW EXCLUSIVE'
  | 'EXCLUSIVE'
  | 'ACCESS EXCLUSIVE';

export interface StatementLock {
  line: number;
  /** e.g. "ALTER TABLE ... ADD COLUMN", "CREATE INDEX CONCURRENTLY". */
  kind: string;
  /** The table (as written) or null when the statement names none we can tell. */
  table: string | null;
  /** null: takes no lock on an existing table (a new object, a function, a setting). */
  lock: LockMode | null;
  blocks: string | null;
}

export interface HeldLock {
  /** schema.table (or index) the lock is on. */
  relation: string;
  mode: string;
}

export interface PlannedMigration {
  /** pgstore's own set or the application's. */
  set: SetName;
  version: string;
  filename: string;
  transactional: boolean;
  /** The up section's SQL, as in the file, from its first non-blank line... */
  sql: string;
  /** ...which is this line of the file. */
  firstLine: number;
  findings: LintFinding[];
  locks: StatementLock[];
}

export interface RehearsedMigration {
  set: SetName;
  version: string;
  filename: string;
  /** False for a migration the live database has but the backup predates (applied to catch up). */
  pendingOnLive: boolean;
  status: 'applied' | 'failed' | 'not run';
  durationMs: number | null;
  /** Relation locks held at the end of its transaction; null when it runs without one (transaction:false). */
  locksHeld: HeldLock[] | null;
  error: string | null;
}

export interface Rehearsal {
  backup: { id: string | null; path: string };
  scratchDatabase: string;
  migrations: RehearsedMigration[];
  ok: boolean;
  /** Always true once the command returns: the scratch database is gone. */
  scratchDropped: boolean;
  leftoversDropped: string[];
  durationMs: number;
}

export interface MigrationPlan {
  database: string;
  pending: PlannedMigration[];
  rehearsal: Rehearsal | null;
}
