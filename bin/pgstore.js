#!/usr/bin/env node
// Runs the CLI bundle (dist/bundle/, built by scripts/build-bundle.js): a few chunks load much
// faster than tsc's many modules. Its source maps (stack traces that name src/ files) are
// turned on only for --debug and PGSTORE_DEBUG: parsing them costs time at every start.
if (process.argv.includes('--debug') || process.env.PGSTORE_DEBUG) process.setSourceMapsEnabled(true);
const { main } = await import('../dist/bundle/cli.js');
main(process.argv);
