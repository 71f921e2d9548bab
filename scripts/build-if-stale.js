#!/usr/bin/env node
/**
 * npm test's pre-step: builds only when dist/ is not made from the current sources. A fresh
 * clone's `npm ci` has just built it (the `prepare` script), so `npm test` right after does not
 * type-check and bundle the same sources a second time (~10 s of a 2-core machine); an edited
 * source file, a changed dependency or another Node.js makes it build again.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildInputsHash, ROOT, STAMP } from './build-inputs.js';

const built = ['dist/index.js', 'dist/bundle/cli.cjs'].every((f) => existsSync(join(ROOT, f)));
let recorded = '';
try {
  recorded = readFileSync(STAMP, 'utf8').trim();
} catch {
  // never built, or built before the stamp existed
}
if (built && recorded === buildInputsHash()) {
  console.error('build: dist/ is up to date with src/ (skipped; `npm run build` forces it)');
} else {
  const run = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
