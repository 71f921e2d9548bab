#!/usr/bin/env node
// Runs the CLI bundle, one CommonJS file built by scripts/build-bundle.js (why: see there).
// `--version` is answered without loading it: scripts call it often. Source maps (stack
// traces that name src/ files) are turned on only for --debug and PGSTORE_DEBUG: parsing them
// costs time at every start.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  if (args.includes('--debug') || process.env.PGSTORE_DEBUG) process.setSourceMapsEnabled(true);
  createRequire(import.meta.url)('../dist/bundle/cli.cjs').main(process.argv);
}
