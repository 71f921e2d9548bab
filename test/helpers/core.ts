/**
 * The in-process tier (test/core/): core operations called directly, with the options the CLI
 * would hand them (the connection resolved once from a URL, an empty environment), on a
 * database of the file's own.
 */
import type { CoreOptions } from '../../src/core/options.js';
import { coreOptions } from './core-options.js';

/** Core options that reach the database at `url` and read nothing from the environment. */
export function on(url: string): CoreOptions {
  return coreOptions(url);
}
