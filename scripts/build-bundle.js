/**
 * The CLI bundle: src/cli.ts and what it imports, bundled by esbuild into dist/bundle/ (ESM,
 * split at every dynamic import(), so a command's modules still load only when that command
 * runs). bin/pgstore.js runs it. tsc's dist/ stays: it is the library (dist/index.js) and its
 * types. Why: Node 20 loads ~60 separate modules for `migrate up` in ~50 ms; the bundle loads
 * a few chunks (README, "Development").
 *
 * Dependencies stay external (resolved from node_modules at run time, as before): bundling
 * them measured no faster (see the README) and would copy what createRequire/require.resolve
 * still look up at run time (cli-table3's colours, dbmate's, squawk's and PostgreSQL's binaries).
 *
 * Source maps are written next to each chunk (without the sources' text); bin/pgstore.js turns
 * them on only for --debug, as parsing them costs time at every start.
 *
 * Usage: node scripts/build-bundle.js   (part of `npm run build`, after tsc)
 */
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = 'dist/bundle';

rmSync(new URL(`../${OUT}`, import.meta.url), { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ['src/cli.ts'],
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  logLevel: 'warning',
});
// Which source files each output holds (tests and benches read it; not shipped).
writeFileSync(new URL(`../${OUT}/meta.json`, import.meta.url), JSON.stringify(result.metafile));
