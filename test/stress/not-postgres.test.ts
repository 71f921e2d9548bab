/**
 * Every wait is bounded: the library's connect() on a port that answers but is not PostgreSQL
 * rejects with a ConnectionError within the connect timeout, after a bounded number of
 * connections, and makes none after it rejected (test/e2e/not-postgres.test.ts: the commands).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { connect } from '../../src/connect.js';
import { ConnectionError } from '../../src/errors.js';
import { closeListeners, EXPECTED, type Kind, KINDS, type Listener, listen, urlOf } from '../helpers/not-postgres.js';
import { rounds, tryPromise } from './harness.js';

const TIMEOUT_S = 1;
const MAX_CONNECTIONS = 5;

describe('connect() to a port that is not PostgreSQL', () => {
  const listeners = new Map<Kind, Listener>();
  beforeAll(async () => {
    for (const kind of KINDS) listeners.set(kind, await listen(kind));
  });
  afterAll(() => closeListeners(listeners.values()));

  it('rejects with a ConnectionError within its timeout, after a few connections, and stops', async () => {
    // The silent listener costs the full timeout: it runs in every fourth round only.
    await tryPromise(
      'connect() to a port that is not PostgreSQL ends in time, with a ConnectionError, after at most 5 connections',
      rounds(4, 200),
      async (round) => {
        // The kinds at once (each listener counts its own connections): a round lasts as long
        // as its slowest kind, the waits that show nothing goes on connecting overlap.
        const kinds = KINDS.filter((kind) => kind !== 'silent' || round % 4 === 0);
        const outcomes = await Promise.all(
          kinds.map(async (kind) => {
            const l = listeners.get(kind)!;
            const before = l.connections;
            const started = Date.now();
            const url = urlOf(l, TIMEOUT_S, round % 2 ? '&sslmode=disable' : '');
            const settled = connect({ databaseUrl: url, env: {} }).then(
              async (db) => void (await db.close()),
              (e: unknown) => e,
            );
            let timer: NodeJS.Timeout | undefined;
            const stuck = new Promise(
              (resolve) => (timer = setTimeout(() => resolve('stuck'), TIMEOUT_S * 1000 + 5_000)),
            );
            const error = await Promise.race([settled, stuck]).finally(() => clearTimeout(timer));
            if (error === 'stuck')
              return `${kind}: connect() had not settled after ${Date.now() - started} ms (${l.connections - before} connections)`;
            const ms = Date.now() - started;
            if (!(error instanceof ConnectionError)) return `${kind}: ${String(error)}`;
            if (!EXPECTED[kind].test(error.message)) return `${kind}: message ${error.message}`;
            if (ms > TIMEOUT_S * 1000 + 1_000) return `${kind}: took ${ms} ms`;
            // Nothing goes on connecting once connect() has rejected.
            await new Promise((resolve) => setTimeout(resolve, 100));
            if (l.connections - before > MAX_CONNECTIONS) return `${kind}: ${l.connections - before} connections`;
            return null;
          }),
        );
        return outcomes.find((o) => o !== null) ?? null;
      },
    );
  }, 600_000);
});
