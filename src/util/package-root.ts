/**
 * pgstore's package folder: found by walking up from this module's own file to the folder
 * whose package.json is pgstore's. The answer is the same from tsc's dist/ tree (at any depth)
 * and from the CLI bundle's chunks (dist/bundle/), so the version and the shipped migrations
 * are found wherever the code that asks was built to.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'pgstore';

let found: { root: string; version: string } | undefined;

function find(): { root: string; version: string } {
  if (found) return found;
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    let pkg: { name?: unknown; version?: unknown } | undefined;
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
    } catch {
      pkg = undefined; // no package.json here (or not JSON): keep walking up
    }
    if (pkg?.name === NAME && typeof pkg.version === 'string') return (found = { root: dir, version: pkg.version });
    if (dirname(dir) === dir) throw new Error(`pgstore's package.json was not found in any folder above ${start}`);
  }
}

/** The folder holding pgstore's package.json (and bin/, dist/, migrations/). */
export function packageRoot(): string {
  return find().root;
}

/** pgstore's version, from its package.json. */
export function packageVersion(): string {
  return find().version;
}
