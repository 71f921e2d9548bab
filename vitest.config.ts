import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/helpers/sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // standby-setup reserves the run's one primary + standby pair (started lazily: test/helpers/standby.ts).
    globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/standby-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: two test files at a time keeps the server and the CPU from thrashing.
    maxWorkers: 2,
    pool: 'forks',
    // Longest files first (by the last run's times, else estimates): test/helpers/sequencer.ts.
    sequence: { sequencer: LongestFirstSequencer },
  },
});
