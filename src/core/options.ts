/**
 * What every core operation takes: where to connect and where to report progress.
 * Core code never reads process.* itself; the CLI passes env in.
 */
import { type ConnectionTarget, type Env, resolveConnection } from '../db/config.js';

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
