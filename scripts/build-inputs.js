/**
 * What the build is made from, as one hash: every file under src/, the build's own scripts and
 * configuration, and the installed dependencies' lock. scripts/build-bundle.js writes it to
 * dist/.build-inputs when a build succeeds; scripts/build-if-stale.js compares.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const STAMP = join(ROOT, 'dist', '.build-inputs');
const FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'scripts/build-bundle.js',
  'scripts/build-inputs.js',
];

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

export function buildInputsHash() {
  const hash = createHash('sha256');
  for (const path of [...walk(join(ROOT, 'src')), ...FILES.map((f) => join(ROOT, f))]) {
    hash.update(relative(ROOT, path));
    hash.update('\0');
    try {
      hash.update(readFileSync(path));
    } catch {
      hash.update('(missing)');
    }
    hash.update('\0');
  }
  // The Node.js that compiled the code cache (dist/bundle/cli.cjs.cache) is an input too.
  hash.update(process.version);
  return hash.digest('hex');
}
