import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/helpers/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // standby-setup reserves the run's one primary + standby pair (started lazily: test/helpers/standby.ts).
    // repository-clean-setup fails the run when a test wrote into the repository; tmpdir-setup
    // gives the run a TMPDIR in memory when it can (test/helpers/tmpdir-setup.ts).
    globalSetup: [
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
    // Not `experimental.fsModuleCache` (vitest 4.1.12): it saved ~3 s of transform CPU a warm run,
    // but an error thrown in a global setup (a test server that cannot start) is then reported
    // as "TypeError: code.charCodeAt is not a function" from vite's module runner, hiding it.
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
