/**
 * Global setup half of test/helpers/standby.ts: it only reserves a folder for the run's one
 * primary + standby pair and stops the pair at the end of the run. Nothing starts here: the
 * first test file that calls standbyPair() starts the pair (so a run without such files pays
 * nothing), and the other files reuse it.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { stopEmbedded } from '../../src/db/embedded.js';
import { serverDataRoot } from './server-info.js';
import { pairTargets, type StandbyRoot } from './standby-layout.js';

export default function setup(project: TestProject): () => Promise<void> {
  const root = mkdtempSync(join(serverDataRoot(), 'pgstore-pair-'));
  // The server account (as root) must enter it to reach the two homes.
  chmodSync(root, 0o711);
  const info: StandbyRoot = { root, ownerPid: process.pid, serverUser: process.env.PGSTORE_SERVER_USER };
  project.provide('standbyRoot', info);
  return async () => {
    // Standby first: a primary stopped under a streaming standby makes it log reconnect attempts.
    for (const target of pairTargets(info).reverse()) {
      if (existsSync(target.home)) await stopEmbedded(target).catch(() => undefined);
    }
    rmSync(root, { recursive: true, force: true });
  };
}
