import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/helpers/sequencer.js';

export default defineConfig({
  plugins: [
    {
      name: 'pgstore-fs-module-cache-workers-only',
      // vitest 4.1.12: when the global setups' modules (environment `__vitest__`, the main
      // process) come from the fs cache, an error a global setup throws is reported as
      // "TypeError: code.charCodeAt is not a function" from vite's module runner instead of
      // itself (tried: PGSTORE_TEST_PG_ROOT=/nonexistent npm test, twice). Those few modules
      // are transformed afresh; the workers' (environment `ssr`) are cached.
      configureVitest({ experimental_defineCacheKeyGenerator }) {
        experimental_defineCacheKeyGenerator(({ environment }) =>
          environment.name === '__vitest__' ? false : undefined,
        );
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    // lint-setup runs `npm run lint` beside the other set-ups and fails the run if lint fails.
    // standby-setup reserves the run's one primary + standby pair (started lazily: test/helpers/standby.ts).
    // repository-clean-setup fails the run when a test wrote into the repository; tmpdir-setup
    // gives the run a TMPDIR in memory when it can (test/helpers/tmpdir-setup.ts).
    globalSetup: [
      // First, so that Biome runs beside the server's start (lint-setup.ts says why).
      'test/helpers/lint-setup.ts',
      'test/helpers/repository-clean-setup.ts',
      'test/helpers/tmpdir-setup.ts',
      'test/helpers/global-setup.ts',
      'test/helpers/standby-setup.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Most test time is waiting (on child programs, servers, timeouts), not CPU: on two cores,
    // three files at a time keep both busy (PGSTORE_TEST_WORKERS overrides; README, "Tests").
    maxWorkers: Number(process.env.PGSTORE_TEST_WORKERS) || 3,
    pool: 'forks',
    // A worker keeps its imported modules from one file to the next: src/ is transformed and
    // loaded once per worker, not once per file (import time summed over the files of unit,
    // integration and core: 49 s -> 19 s on a busy machine). Safe here: no test mocks a module
    // or changes process-wide state (process.env, cwd, handlers), and each file has its own database.
    isolate: false,
    // Transformed modules kept in node_modules/.vitest between runs, keyed by content
    // (experimental in vitest 4: https://vitest.dev/config/experimental): ~8 s of CPU and ~5 s
    // of a warm run. Only the workers' modules (the plugin below says why).
    experimental: { fsModuleCache: true },
    // Longest files first (by the last run's times, else estimates): test/helpers/sequencer.ts.
    sequence: { sequencer: LongestFirstSequencer },
    // `npm run coverage`: v8 coverage of src/ (in-process code only: the binary's children are not seen).
    coverage: {
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text-summary', 'json-summary', 'html'],
      reportOnFailure: true,
    },
  },
});
