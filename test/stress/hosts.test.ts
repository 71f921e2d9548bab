/**
 * The hosts event store's promises under concurrent writers, each on a connection of its own:
 * of appends based on one version exactly one wins (the others get ConcurrentWriteConflictError)
 * and the history never forks; of creations of one id, or of one (ip, hostname) under several
 * ids, exactly one wins; a snapshot rollback racing an append comes out as one then the other,
 * never a mix. After every round the streams and the projection equal the fold of the events.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createSnapshot } from '../../src/core/snapshot/snapshot.js';
import { rollbackSnapshot } from '../../src/core/snapshot/diff.js';
import { coreOptions } from '../helpers/core-options.js';
import { ConcurrentWriteConflictError, DuplicateEntryError } from '../../src/errors.js';
import { createHostEventsStore } from '../../src/store/hosts/events.js';
import { createHostsStore } from '../../src/store/hosts/hosts.js';
import type { EventEnvelope, HostEvent } from '../../src/store/hosts/types.js';
import { createTestDatabase, useTestDatabase } from '../helpers/db.js';
import { commentUpdated, envelope, hostCreated, uid } from '../integration/store-hosts-helpers.js';
import { rounds, separateConnections, together, tryPromise } from './harness.js';
import { forkIn, logOf, projectionDrift, unexpectedFailures } from './hosts-checks.js';

const db = useTestDatabase();
let ipCounter = 0;
const nextIp = () => {
  ++ipCounter;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
};

async function createHost(): Promise<{ id: string; first: EventEnvelope }> {
  const id = uid('h-');
  const first = envelope(id, hostCreated(nextIp(), `${id}.example`, { comment: 'start' }));
  await createHostEventsStore(db.sql).appendEvent(id, first, null);
  return { id, first };
}

/**
 * Judges a round of writers that each tried to append `batches[i]` to `id` on one expected
 * version: exactly one won, the rest lost with `lossType`, the log grew by the winner's events
 * only, in one unforked chain, and the projection shows the winner's last change.
 */
async function oneWinner(
  id: string,
  before: number,
  batches: EventEnvelope[][],
  results: PromiseSettledResult<unknown>[],
  lossType: abstract new (...args: never[]) => Error,
): Promise<string | null> {
  const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
  const odd = unexpectedFailures(results, lossType);
  if (winners.length !== 1)
    return `${winners.length} of ${results.length} writers won${odd.length ? `; ${odd[0]}` : ''}`;
  if (odd.length) return `a loser failed with ${odd[0]}`;
  const won = batches[winners[0]!]!;
  const log = await logOf(db.sql, id);
  if (log.count !== before + won.length) return `the log has ${log.count} events, expected ${before + won.length}`;
  if (log.last !== won.at(-1)!.eventVersion || log.streamVersion !== log.last || log.streamCount !== log.count) {
    return `stream ${log.streamVersion}/${log.streamCount} vs log ${log.last}/${log.count}, winner ${won.at(-1)!.eventVersion}`;
  }
  const fork = await forkIn(db.sql, [id]);
  if (fork) return fork;
  const [entry] = await db.sql<{ version: string }[]>`select version from hosts.hosts where id = ${id}`;
  return entry?.version === log.last ? null : `the projection is at version ${entry?.version}, the log at ${log.last}`;
}

describe('hosts appends from separate connections', () => {
  const cases: Array<[writers: number, quick: number, long: number]> = [
    [2, 20, 400],
    [8, 6, 120],
    [32, 2, 25],
  ];
  for (const [writers, quick, long] of cases) {
    it(`${writers} appends on one expected version: exactly one wins, no fork`, async () => {
      const { pools, end } = await separateConnections(db.url, writers);
      try {
        await tryPromise(
          `hosts: ${writers} appends on one version, one wins, no fork`,
          rounds(quick, long),
          async () => {
            const { id, first } = await createHost();
            const batches = pools.map((_, i) => [envelope(id, commentUpdated(`writer ${i}`))]);
            const results = await together(
              pools.map(
                (pool, i) => () => createHostEventsStore(pool).appendEvent(id, batches[i]![0]!, first.eventVersion),
              ),
            );
            return oneWinner(id, 1, batches, results, ConcurrentWriteConflictError);
          },
        );
      } finally {
        await end();
      }
    });
  }

  it('appendEvents batches on one expected version: exactly one batch wins, whole', async () => {
    const { pools, end } = await separateConnections(db.url, 4);
    try {
      await tryPromise('hosts: 4 racing appendEvents batches, one wins whole, no fork', rounds(8, 150), async () => {
        const { id, first } = await createHost();
        const batches = pools.map((_, i): EventEnvelope[] => {
          const changes: HostEvent[] = [
            commentUpdated(`batch ${i}`),
            { type: 'TagsModified', oldTags: [], newTags: [`t${i}`], modifiedAt: new Date() },
            { type: 'AliasesModified', oldAliases: [], newAliases: [`a${i}`], modifiedAt: new Date() },
          ];
          return changes.map((event) => envelope(id, event));
        });
        const results = await together(
          pools.map((pool, i) => () => createHostEventsStore(pool).appendEvents(id, batches[i]!, first.eventVersion)),
        );
        const broke = await oneWinner(id, 1, batches, results, ConcurrentWriteConflictError);
        if (broke) return broke;
        const winner = results.findIndex((r) => r.status === 'fulfilled');
        const [row] = await db.sql<
          { comment: string; tags: string[]; aliases: string[] }[]
        >`select comment, tags, aliases from hosts.hosts where id = ${id}`;
        return row?.comment === `batch ${winner}` &&
          row.tags.join() === `t${winner}` &&
          row.aliases.join() === `a${winner}`
          ? null
          : `projection ${JSON.stringify(row)} is not batch ${winner}`;
      });
    } finally {
      await end();
    }
  });

  it('HostCreated of one new id: exactly one creation wins', async () => {
    const { pools, end } = await separateConnections(db.url, 8);
    try {
      await tryPromise('hosts: 8 HostCreated of one id, one wins', rounds(6, 150), async () => {
        const id = uid('h-');
        const batches = pools.map((_, i) => [envelope(id, hostCreated(nextIp(), `${id}-${i}.example`))]);
        const results = await together(
          pools.map((pool, i) => () => createHostEventsStore(pool).appendEvent(id, batches[i]![0]!, null)),
        );
        const broke = await oneWinner(id, 0, batches, results, ConcurrentWriteConflictError);
        if (broke) return broke;
        const winner = batches[results.findIndex((r) => r.status === 'fulfilled')]![0]!.event as { hostname: string };
        const rows = await db.sql<
          { hostname: string }[]
        >`select hostname from hosts.hosts where id = ${id} or hostname like ${`${id}-%`}`;
        return rows.length === 1 && rows[0]!.hostname === winner.hostname
          ? null
          : `live rows ${rows.map((r) => r.hostname).join(', ')}, winner ${winner.hostname}`;
      });
    } finally {
      await end();
    }
  });

  it('HostCreated of one (ip, hostname) under different ids: exactly one wins', async () => {
    const { pools, end } = await separateConnections(db.url, 8);
    try {
      await tryPromise('hosts: 8 HostCreated of one ip+hostname, one wins', rounds(6, 150), async () => {
        const ip = nextIp();
        const hostname = `${uid('pair-')}.example`;
        const ids = pools.map(() => uid('h-'));
        const results = await together(
          pools.map(
            (pool, i) => () =>
              createHostEventsStore(pool).appendEvent(ids[i]!, envelope(ids[i]!, hostCreated(ip, hostname)), null),
          ),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [ids[i]!] : []));
        const odd = unexpectedFailures(results, DuplicateEntryError);
        if (winners.length !== 1 || odd.length) return `${winners.length} of 8 won${odd.length ? `; ${odd[0]}` : ''}`;
        const live = await db.sql<
          { id: string }[]
        >`select id from hosts.hosts where ip_address = ${ip} and hostname = ${hostname}`;
        const [streams] = await db.sql<
          { n: number }[]
        >`select count(*)::int as n from hosts.streams where aggregate_id in ${db.sql(ids)}`;
        if (live.length !== 1 || live[0]!.id !== winners[0])
          return `live entries ${live.map((r) => r.id).join(', ')}, winner ${winners[0]}`;
        return streams!.n === 1 ? null : `${streams!.n} streams for one winner`;
      });
    } finally {
      await end();
    }
  });

  it('after all the races, the streams and the projection equal the fold of the events', async () => {
    await tryPromise(
      'hosts: projection = fold of the events after the races',
      1,
      async () => (await projectionDrift(db.sql)) ?? (await forkIn(db.sql)),
    );
  });
});

describe('snapshot rollback racing an append', () => {
  let own: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    own = await createTestDatabase();
  });
  afterAll(async () => {
    await own?.drop();
  });

  it('comes out as the rollback then the append, or the append then the rollback', async () => {
    const { pools, end } = await separateConnections(own.url, 1);
    const options = coreOptions(own.url);
    try {
      await tryPromise(
        'hosts: snapshot rollback racing an append, one order or the other',
        rounds(5, 80),
        async (round) => {
          const id = uid('h-');
          await createHostEventsStore(own.sql).appendEvent(
            id,
            envelope(id, hostCreated(nextIp(), `${id}.example`, { comment: 'saved' })),
            null,
          );
          const { snapshot } = await createSnapshot({ ...options, keepLast: 5 });
          const saved = await createHostsStore(own.sql).getById(id);
          const change = envelope(id, commentUpdated('changed'));
          await createHostEventsStore(own.sql).appendEvent(id, change, saved.version);
          const racing = envelope(id, commentUpdated('racing'));
          const delay = (round * 7) % 30;
          const [rollback, append] = await together<unknown>([
            () => rollbackSnapshot({ ...options, id: snapshot.snapshotId }),
            () =>
              new Promise((r) => setTimeout(r, delay)).then(() =>
                createHostEventsStore(pools[0]!).appendEvent(id, racing, change.eventVersion),
              ),
          ]);
          const odd = unexpectedFailures([rollback!, append!], ConcurrentWriteConflictError);
          if (odd.length) return `failed with ${odd[0]}`;
          const { comment } = await createHostsStore(own.sql).getById(id);
          // Rollback committed last: the saved comment. Rollback refused: the racing append won.
          const expected =
            rollback!.status === 'fulfilled' ? 'saved' : append!.status === 'fulfilled' ? 'racing' : null;
          if (expected === null) return 'both the rollback and the append were refused';
          if (comment !== expected)
            return `rollback ${rollback!.status}, append ${append!.status}: comment '${comment}', expected '${expected}'`;
          return (await forkIn(own.sql, [id])) ?? (await projectionDrift(own.sql));
        },
      );
    } finally {
      await end();
    }
  });
});
