/**
 * What every core operation takes: where to connect (resolved once, by the caller: the
 * command, with db/config.ts) and where to report progress. Core code never reads process.*
 * itself and never parses a URL; the CLI passes the target and the environment in.
 */
import type { ConnectionTarget, Env } from '../db/config.js';
import { UsageError } from '../errors.js';
import type { DestructivePlan } from '../types/confirm.js';

export type { Confirm, DestructivePlan } from '../types/confirm.js';

/** The environment and the progress log: what an operation that does not connect takes. */
export interface LocalOptions {
  /** The environment (PGSTORE_*, DBMATE_*, ...); never used to find the connection again. */
  env: Env;
  /** Progress and informational messages (the CLI sends them to stderr). */
  log?: ((message: string) => void) | undefined;
}

export interface CoreOptions extends LocalOptions {
  /** Where to connect, already resolved (a server, or the embedded one, started on demand). */
  target: ConnectionTarget;
}

/**
 * Refuses to touch a production database unless the explicit second flag was given. `asks`:
 * the command also asks (or takes --yes), so the hint names both flags; seed never asks.
 */
export function guardProduction(plan: DestructivePlan, forceProduction: boolean | undefined, asks = true): void {
  if (plan.environment === 'production' && !forceProduction) {
    throw new UsageError(`refusing to ${plan.action} on ${plan.target}: it is marked as production`, {
      hint: asks
        ? 'If you really mean it, add --force-production as well as --yes.'
        : 'If you really mean it, add --force-production.',
    });
  }
}
