/**
 * Files pgstore writes by path are never a way to change another file: a loop in another
 * process keeps swapping a symlink (to a "chosen" 0600 file) into the metrics file's place
 * while pgstore writes the metrics, round after round; the chosen file's mode never changes.
 * (Before modes were set on the open file, chmod-by-path after the rename followed the symlink.)
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { writeBackupMetrics } from '../../src/core/backup/metrics.js';
import { rounds, tryPromise } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'pgstore-stress-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SWAPPER = `
const { symlinkSync, renameSync, rmSync } = require('node:fs');
const [chosen, target] = process.argv.slice(1);
const link = target + '.swap';
for (;;) {
  try { rmSync(link, { force: true }); symlinkSync(chosen, link); renameSync(link, target); } catch {}
}`;

describe('stress: files pgstore writes', () => {
  it("a symlink raced into the metrics file's place never changes the mode of the file it points at", async () => {
    const chosen = join(dir, 'chosen-secret');
    writeFileSync(chosen, 'secret\n');
    chmodSync(chosen, 0o600);
    const target = join(dir, 'pgstore.prom');
    const swapper = spawn(process.execPath, ['-e', SWAPPER, chosen, target], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await tryPromise(
        'metrics file: a racing symlink never gets its target chmod-ed',
        rounds(300, 8_000),
        async (i) => {
          writeBackupMetrics(target, {
            database: 'app',
            success: true,
            durationSeconds: i,
            sizeBytes: 1,
            lastSuccessAt: new Date(),
          });
          const mode = statSync(chosen).mode & 0o777;
          if (mode !== 0o600) {
            chmodSync(chosen, 0o600);
            return `the chosen file became ${mode.toString(8)}`;
          }
          return null;
        },
      );
    } finally {
      swapper.kill('SIGKILL');
    }
  });
});
