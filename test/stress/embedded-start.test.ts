/**
 * Promise: commands started at once on a fresh embedded home (no cluster yet) all succeed: one of
 * them creates and starts the server, the others wait for it and use it. None may mistake the
 * sibling's new server for "another program" on the port (it did, under load: a contender read
 * the home before the cluster existed, then probed the port after the sibling's server listened).
 *
 * Each round is a new cluster (initdb and a start: seconds), so `npm test` runs none here: its
 * bounded round is test/e2e/server.test.ts "starts the server on demand, once, even when run
 * concurrently"; `npm run stress` runs the rounds below.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { rounds, together, tryPromise } from './harness.js';
import { freePort } from '../helpers/free-port.js';

const CONTENDERS = 4;

describe('concurrent on-demand start of the embedded server', () => {
  it(`${CONTENDERS} commands at once on a fresh home all succeed on one server`, async () => {
    await tryPromise(
      `${CONTENDERS} commands started at once on a fresh embedded home all exit 0 on the one server one of them started`,
      rounds(0, 12),
      async () => {
        const home = mkdtempSync(join(tmpdir(), 'pgstore-start-'));
        const env = cleanEnv({ PGSTORE_HOME: home, PGSTORE_PORT: String(await freePort()) });
        try {
          const results = await together(
            Array.from({ length: CONTENDERS }, () => () => runCli(['migrate', 'status', '--json'], { env })),
          );
          const problems: string[] = [];
          for (const r of results) {
            if (r.status === 'rejected') problems.push(String(r.reason));
            else if (r.value.code !== 0) problems.push(`exit ${r.value.code}: ${r.value.stderr.trim().split('\n')[0]}`);
          }
          return problems.length ? problems.join('; ') : null;
        } finally {
          await runCliInProcess(['server', 'stop'], { env });
          rmSync(home, { recursive: true, force: true });
        }
      },
    );
  }, 600_000);
});
