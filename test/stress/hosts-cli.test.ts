/**
 * The same promise through the built binary: two `pgstore hosts update ID --comment …
 * --expected-version V` processes started together; exactly one exits 0, the other exits 3
 * (conflict), and the entry's history does not fork.
 */
import { describe, it } from 'vitest';
import { createHostEventsStore } from '../../src/store/hosts/events.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { useTestDatabase } from '../helpers/db.js';
import { envelope, hostCreated, uid } from '../integration/store-hosts-helpers.js';
import { rounds, together, tryPromise } from './harness.js';
import { forkIn } from './hosts-checks.js';

const db = useTestDatabase();

describe('hosts update from two processes', () => {
  it('two updates on one --expected-version: one exits 0, the other 3', async () => {
    const env = cleanEnv({ DATABASE_URL: db.url });
    await tryPromise('hosts: 2 `hosts update --expected-version` processes, one wins', rounds(2, 40), async (round) => {
      const id = uid('h-');
      const first = envelope(id, hostCreated(`10.3.${round >> 8}.${round & 255}`, `${id}.example`));
      await createHostEventsStore(db.sql).appendEvent(id, first, null);
      const results = await together(
        [0, 1].map(
          (i) => () =>
            runCli(['hosts', 'update', id, '--comment', `process ${i}`, '--expected-version', first.eventVersion], {
              env,
            }),
        ),
      );
      const codes = results.map((r) => (r.status === 'fulfilled' ? r.value.code : `failed: ${String(r.reason)}`));
      if (codes.sort().join() !== '0,3') return `exit codes ${codes.join(', ')}`;
      return forkIn(db.sql, [id]);
    });
  });
});
