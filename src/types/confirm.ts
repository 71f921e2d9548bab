/**
 * A destructive operation's plan, shown before it asks, and the asking: core calls a Confirm,
 * ui provides one (ui/confirm.ts).
 */

/** What a destructive operation is about to do, shown before it asks. */
export interface DestructivePlan {
  /** "drop and recreate the database", "roll back 2 migrations". */
  action: string;
  /** The target, password-free: user@host:port/database. */
  target: string;
  /** The database's environment marker, when it has one. */
  environment: string | null;
  /** Lines of detail (which migrations, which sessions). */
  details: string[];
}

/** Asks the user (or checks --yes); throws CancelledError or UsageError to stop. */
export type Confirm = (plan: DestructivePlan) => Promise<void>;
