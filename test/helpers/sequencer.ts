/**
 * Runs the longest test files first. With two workers, a long file that starts last makes the
 * whole run as long as that file alone. vitest's own order is the same once it has timed a run
 * (its cache in node_modules/.vite); before that (a fresh clone, CI) it goes by file size, and
 * the slowest files here are short ones that wait on child processes. So: the cached duration
 * when there is one, else the estimate below, else a guess by folder.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

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

function guess(file: string): number {
  if (file in ESTIMATES) return ESTIMATES[file]!;
  if (file.startsWith('test/e2e/')) return 5;
  if (file.startsWith('test/stress/') || file.startsWith('test/integration/') || file.startsWith('test/core/'))
    return 2;
  return 0.5;
}

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (spec: TestSpecification) => {
      const file = relative(this.ctx.config.root, spec.moduleId).split('\\').join('/');
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${file}`);
      return cached && !cached.failed ? cached.duration / 1000 : guess(file);
    };
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
