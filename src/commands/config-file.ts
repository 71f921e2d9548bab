/**
 * Finding the project's config file, kept apart from its loader so that every run can look
 * for it without loading the TOML parser or the settings (start-up time).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export const CONFIG_FILE = 'pgstore.toml';

/** The config file for `cwd`: PGSTORE_CONFIG, else the nearest pgstore.toml up the tree, else none. */
export function findConfigFile(cwd: string, env: Record<string, string | undefined>): string | undefined {
  const named = env.PGSTORE_CONFIG;
  if (named !== undefined && named !== '') {
    const path = resolve(cwd, named);
    if (!existsSync(path))
      throw new UsageError(`PGSTORE_CONFIG names ${path}, which does not exist`, {
        hint: 'Point it at a pgstore.toml, or unset it.',
      });
    return path;
  }
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, CONFIG_FILE);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here: look one folder up
    }
    if (dirname(dir) === dir) return undefined;
  }
}
