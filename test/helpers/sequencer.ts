/**
 * The order the test files start in: longest first, and on two cores, two files that keep the
 * CPU busy while a third waits. vitest hands files to its workers in the order given here.
 *
 * Longest first: a long file that starts last makes the whole run as long as that file alone.
 * The duration is vitest's cached one when there is one (node_modules/.vite), else the estimate
 * below, else a guess by folder (before any run, vitest would go by file size, and the slowest
 * files here are short ones that wait on child processes).
 *
 * CPU-aware: with three workers on two cores, three files that mostly wait (on a server, a
 * timeout, a replica) running together left the cores half idle for seconds (a run's CPU
 * samples showed 15-90 % use for ~5 s in all). The sort simulates the workers: when two busy
 * files already fill the cores, the next free worker takes the longest file that mostly waits;
 * otherwise the longest busy one.
 */
import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { cpuAwareOrder } from './cpu-aware-order.js';

/** Seconds on an idle 2-core machine (rough: only the order matters). */
const ESTIMATES: Record<string, number> = {
  'test/e2e/pgbackrest.test.ts': 40,
  'test/e2e/restore.test.ts': 18,
  'test/core/hosts-import-export.test.ts': 5,
  'test/e2e/sigterm.test.ts': 14,
  'test/e2e/seed.test.ts': 15,
  'test/e2e/backup-killed.test.ts': 10,
  'test/e2e/snapshot.test.ts': 12,
  'test/e2e/backup-damaged.test.ts': 12,
  'test/e2e/restore-failures.test.ts': 8,
  'test/e2e/migrate-diff.test.ts': 11,
  'test/e2e/migrate-plan.test.ts': 11,
  'test/e2e/backup.test.ts': 11,
  'test/e2e/restore-pagila.test.ts': 9,
  'test/e2e/setup-reset.test.ts': 9,
  'test/e2e/restore-ownership.test.ts': 9,
};

/**
 * Files that mostly wait: CPU time (theirs, their children's and the servers') over wall time,
 * run alone, one worker (2026-12-05, scripts/test-cpu-reporter.mjs says how). Other files count as 1.
 */
const CPU_SHARE: Record<string, number> = {
  'test/unit/child-connect-timeout.test.ts': 0.03,
  'test/stress/not-postgres.test.ts': 0.04,
  'test/e2e/health-round-trips.test.ts': 0.11,
  'test/e2e/migrate-locks.test.ts': 0.16,
  'test/e2e/stop-ends-server-work.test.ts': 0.17,
  'test/e2e/not-postgres.test.ts': 0.2,
  'test/integration/standby-pair.test.ts': 0.21,
  'test/integration/store-sessions.test.ts': 0.21,
  'test/unit/file-lock.test.ts': 0.24,
  'test/e2e/lock-timeout.test.ts': 0.26,
  'test/integration/store-nonces.test.ts': 0.3,
  'test/e2e/pgbackrest-standby.test.ts': 0.35,
  'test/e2e/health-failures.test.ts': 0.37,
  'test/e2e/pgbackrest.test.ts': 0.4,
  'test/e2e/health-replication.test.ts': 0.47,
  'test/e2e/migrate.test.ts': 0.47,
  'test/stress/replica-reads.test.ts': 0.52,
  'test/integration/replica-reads.test.ts': 0.55,
};

function guess(file: string): number {
  if (file in ESTIMATES) return ESTIMATES[file]!;
  if (file.startsWith('test/e2e/')) return 5;
  if (file.startsWith('test/stress/') || file.startsWith('test/integration/') || file.startsWith('test/core/'))
    return 2;
  return 0.5;
}

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const jobs = files.map((spec) => {
      const file = relative(this.ctx.config.root, spec.moduleId).split('\\').join('/');
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${file}`);
      const seconds = cached && !cached.failed ? cached.duration / 1000 : guess(file);
      return { item: spec, seconds, cpuShare: CPU_SHARE[file] ?? 1 };
    });
    const workers = Number(this.ctx.config.maxWorkers) || 1;
    return cpuAwareOrder(jobs, workers, availableParallelism());
  }
}
