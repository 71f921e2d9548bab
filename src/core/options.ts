/**
 * What every core operation takes: where to connect and where to report progress.
 * Core code never reads process.* itself; the CLI passes env in.
 */
import { type ConnectionTarget, type Env, resolveConnection } from '../db/config.js';
import { UsageError } from '../errors.js';
import type { Confirm, DestructivePlan } from '../types/confirm.js';

export type { Confirm, DestructivePlan } from '../types/confirm.js';

export interface CoreOptions {
  /** --database-url, if given. */
  databaseUrl?: string | undefined;
  /** The environment to resolve configuration from. */
  env: Env;
  /** Progress and informational messages (the CLI sends them to stderr). */
  log?: (message: string) => void;
}

/** Resolves the connection target for a core operation. */
export function targetOf(options: CoreOptions): ConnectionTarget {
  return resolveConnection({ databaseUrl: options.databaseUrl, env: options.env });
}

/** Refuses to touch a production database unless the explicit second flag was given. */
export function guardProduction(plan: DestructivePlan, forceProduction: boolean | undefined): void {
  if (plan.environment === 'production' && !forceProduction) {
    throw new UsageError(`refusing to ${plan.action} on ${plan.target}: it is marked as production`, {
      hint: 'If you really mean it, add --force-production as well as --yes.',
    });
  }
}
