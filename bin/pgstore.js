#!/usr/bin/env node
// Runs the CLI bundle, one CommonJS file built by scripts/build-bundle.js (why: see there).
// `--version` is answered without loading it: scripts call it often.
//
// This file is CommonJS (bin/package.json says so): an ES module entry brings up Node's ESM
// loader, which costs ~5-10 ms of CPU on every start for nothing the CLI uses.
//
// The bundle is compiled with a V8 code cache (dist/bundle/cli.cjs.cache, written by the build
// and rewritten here when V8 rejects it, e.g. after a Node.js upgrade): compiling the 750 kB
// bundle was ~20 ms of every start, the cache makes it ~2 ms (README, "Development"). Dynamic
// import() inside the bundle (prompts, tables) goes through Node's own loader.
//
// Source maps (stack traces that name src/ files) are turned on only for --debug and
// PGSTORE_DEBUG, and then the bundle is loaded with require(): parsing the maps costs time.
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire, Module } = require('node:module');
const { dirname, join } = require('node:path');

// The launcher (bin/pgstore) kept NODE_EXTRA_CA_CERTS from Node's start (why: see there). It goes
// back into the environment, for the programs pgstore runs, and the file is loaded only for a
// TLS connection that verifies the server's certificate (src/db/extra-ca.ts reads this global).
const deferredCa = process.env.PGSTORE_EXTRA_CA_CERTS;
if (deferredCa !== undefined) {
  delete process.env.PGSTORE_EXTRA_CA_CERTS;
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    process.env.NODE_EXTRA_CA_CERTS = deferredCa;
    globalThis[Symbol.for('pgstore.deferredExtraCaCerts')] = deferredCa;
  }
}

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version}\n`);
} else {
  const file = join(__dirname, '..', 'dist', 'bundle', 'cli.cjs');
  const bundleRequire = createRequire(file);
  if (args.includes('--debug') || process.env.PGSTORE_DEBUG) {
    process.setSourceMapsEnabled(true);
    bundleRequire(file).main(process.argv);
  } else {
    loadCached(file, bundleRequire).main(process.argv);
  }
}

/** The bundle's exports, compiled from the code cache when V8 accepts it. */
function loadCached(file, bundleRequire) {
  const vm = require('node:vm');
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
  // PGSTORE_REFRESH_CODE_CACHE=1: the build's second warm-up run adds what it compiled.
  if (cachedData === undefined || script.cachedDataRejected || process.env.PGSTORE_REFRESH_CODE_CACHE === '1') {
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
  script.runInThisContext().call(module.exports, module.exports, bundleRequire, module, file, dirname(file));
  return module.exports;
}
