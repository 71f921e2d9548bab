/**
 * The CLI bundle: src/cli.ts, every module it may import and its hot dependencies (commander,
 * postgres, chalk), bundled by esbuild into ONE CommonJS file, dist/bundle/cli.cjs, that
 * bin/pgstore.js loads. tsc's dist/ stays: it is the library (dist/index.js) and its types.
 *
 * Why one CommonJS file: on Node 20 (no module compile cache) each ES module file costs about
 * half a millisecond to resolve, read, link and evaluate, whatever its size: `migrate up` loaded
 * ~45 of pgstore's files and ~20 of its dependencies'. Split ESM chunks (esbuild `splitting`)
 * still loaded ~24 chunks; one file loads once and is only pre-parsed. Laziness is kept where
 * it counts: each module reached by a dynamic import() runs only when imported (esbuild wraps
 * it in an init function), and Node's built-in modules are required by the module that uses
 * them, when it runs. Measurements: README, "Development".
 *
 * External (loaded from node_modules only when used): @inquirer/prompts (questions) and
 * cli-table3 (tables; its colour module is reached through createRequire from cli-table3's
 * own folder, so both must be the same copy). dbmate, squawk and PostgreSQL's binaries are
 * found at run time with require.resolve, never imported.
 *
 * import.meta.url, which CommonJS lacks, becomes the bundle's own file URL: code that finds
 * files relative to itself walks up to the package root (src/util/package-root.ts).
 *
 * Source maps (dist/bundle/cli.cjs.map, without the sources' text) are turned on by
 * bin/pgstore.js for --debug only: parsing them costs time at every start.
 *
 * Usage: node scripts/build-bundle.js   (part of `npm run build`, after tsc)
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/**
 * Node built-ins that most runs never use, required on first use instead of when the module that
 * imports them is evaluated: tls (postgres.js imports it for SSL connections only; with crypto it
 * was ~5-10 ms of every `health` on the embedded server, which has no SSL), child_process
 * (commander imports it for executable subcommands, which pgstore has none of; src/tools when it
 * spawns) and fs/promises (~2 ms of CPU: it loads Node's readline and fs streams; store/admin,
 * the file lock and atomic-file import it, and `health` loads store/admin without calling it).
 * Each becomes a module whose exports are getters onto the real one: the same values, looked up
 * when first read. Their names are taken from this Node's module at build time.
 */
const LAZY_BUILTINS = ['tls', 'child_process', 'fs/promises'];
const require = createRequire(import.meta.url);
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    b.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const names = Object.keys(require(`node:${args.path}`));
      const contents = `let real;
const load = () => (real ??= require('node:${args.path}'));
for (const name of ${JSON.stringify(names)})
  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`;
      return { contents, loader: 'js', resolveDir: ROOT };
    });
  },
};
const OUT = 'dist/bundle';

rmSync(new URL(`../${OUT}`, import.meta.url), { recursive: true, force: true });
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ['src/cli.ts'],
  outfile: `${OUT}/cli.cjs`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['@inquirer/*', 'cli-table3', 'cli-table3/*'],
  // import() of an external becomes require(): V8 drops a script's dynamic-import callback when
  // it is compiled from a code cache ("A dynamic import callback was not specified"), and the
  // externals all ship CommonJS (@inquirer/prompts has a require entry).
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__pgstoreModuleUrl' },
  banner: { js: "const __pgstoreModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Smaller to parse; names are kept (error classes' names, stack traces).
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  metafile: true,
  plugins: [lazyBuiltins],
  logLevel: 'warning',
});
// Which source files the bundle holds (tests read it; not shipped).
writeFileSync(new URL(`../${OUT}/meta.json`, import.meta.url), JSON.stringify(result.metafile));

// The V8 code cache bin/pgstore.js compiles the bundle with: written by one run of the CLI
// (`--help` reaches every command's module), so the first real run is fast too.
const { spawnSync } = await import('node:child_process');
const bin = fileURLToPath(new URL('../bin/pgstore.js', import.meta.url));
spawnSync(process.execPath, [bin, '--help'], { stdio: 'ignore', env: { ...process.env, PGSTORE_DEBUG: '' } });
// Then `migrate up` against a closed port, the cache rewritten at its exit: it adds the
// connection code (postgres.js) and migrate's modules, which --help never runs and every
// `migrate up` compiled again (~5-10 ms of CPU). Port 1 refuses at once; nothing is written
// anywhere but the cache.
spawnSync(
  process.execPath,
  [bin, 'migrate', 'up', '--set', 'pgstore', '--no-dump-schema', '--no-lint', '--progress', 'none'],
  {
    stdio: 'ignore',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PGSTORE_DEBUG: '',
      PGSTORE_REFRESH_CODE_CACHE: '1',
      DATABASE_URL: 'postgresql://pgstore@127.0.0.1:1/pgstore?sslmode=disable',
    },
  },
);

// What this build was made from (scripts/build-if-stale.js skips the next build when unchanged).
const { buildInputsHash, STAMP } = await import('./build-inputs.js');
writeFileSync(STAMP, `${buildInputsHash()}\n`);
