#!/usr/bin/env node
// Runs the CLI bundle, one CommonJS file built by scripts/build-bundle.js (why: see there).
// `--version` is answered without loading it: scripts call it often.
//
// The bundle is compiled with a V8 code cache (dist/bundle/cli.cjs.cache, written by the build
// and rewritten here when V8 rejects it, e.g. after a Node.js upgrade): compiling the 750 kB
// bundle was ~20 ms of every start, the cache makes it ~2 ms (README, "Development"). Dynamic
// import() inside the bundle (prompts, tables) goes through Node's own loader.
//
// Source maps (stack traces that name src/ files) are turned on only for --debug and
// PGSTORE_DEBUG, and then the bundle is loaded with require(): parsing the maps costs time.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const file = fileURLToPath(new URL('../dist/bundle/cli.cjs', import.meta.url));
  const require = createRequire(file);
  if (args.includes('--debug') || process.env.PGSTORE_DEBUG) {
    process.setSourceMapsEnabled(true);
    require(file).main(process.argv);
  } else {
    (await loadCached(file, require)).main(process.argv);
  }
}

/** The bundle's exports, compiled from the code cache when V8 accepts it. */
async function loadCached(file, require) {
  const { default: vm } = await import('node:vm');
  const cacheFile = `${file}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache yet: compiled from source, and one is written at exit
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData === undefined || script.cachedDataRejected) {
    // Written at exit, so it also holds the functions this run compiled. Best effort: an
    // installation this user cannot write to just goes without.
    process.once('exit', () => {
      try {
        writeFileSync(`${cacheFile}.${process.pid}`, script.createCachedData());
        renameSync(`${cacheFile}.${process.pid}`, cacheFile);
      } catch {
        // read-only installation
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, require, module, file, dirname(file));
  return module.exports;
}
