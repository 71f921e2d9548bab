/**
 * Options for calling a core operation in-process, as the CLI builds them: the connection
 * resolved once from a URL (core functions take a resolved target, never a URL).
 */
import type { CoreOptions } from '../../src/core/options.js';
import { type Env, resolveConnection } from '../../src/db/config.js';

/** Core options on the database at `url`. */
export function coreOptions(url: string, env: Env = {}): CoreOptions {
  return { target: resolveConnection({ databaseUrl: url, env }), env };
}
