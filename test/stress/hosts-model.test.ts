/**
 * Model-based test of the hosts event store: random sequences of commands (create, change
 * comment, tags, aliases, IP address or hostname, delete, batches, appends on a stale version)
 * run against the real store and against a small in-memory model of its rules. Each command
 * must succeed or fail as the model says (ConcurrentWriteConflictError, DuplicateEntryError,
 * NotFoundError), and afterwards the projection, versions and event counts must equal the
 * model's, and the whole projection the fold of the events.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ConcurrentWriteConflictError, DuplicateEntryError, NotFoundError } from '../../src/errors.js';
import { createHostEventsStore } from '../../src/store/hosts/events.js';
import { createHostsStore } from '../../src/store/hosts/hosts.js';
import type { HostEvent } from '../../src/store/hosts/types.js';
import { useTestDatabase } from '../helpers/db.js';
import { envelope, uid } from '../integration/store-hosts-helpers.js';
import { reportPromise, rounds } from './harness.js';
import { forkIn, projectionDrift } from './hosts-checks.js';

const db = useTestDatabase();

const IDS = 4;
const IPS = ['10.9.0.1', '10.9.0.2'];
const NAMES = ['a', 'b'];
const WORDS = ['x', 'y', 'z'];

type Command =
  | { kind: 'create'; id: number; ip: number; name: number; comment: string | null; tags: string[]; aliases: string[] }
  | { kind: 'comment'; id: number; comment: string | null }
  | { kind: 'tags'; id: number; tags: string[] }
  | { kind: 'aliases'; id: number; aliases: string[] }
  | { kind: 'ip'; id: number; ip: number }
  | { kind: 'hostname'; id: number; name: number }
  | { kind: 'delete'; id: number }
  | { kind: 'batch'; id: number; comment: string; tags: string[] }
  | { kind: 'stale'; id: number; back: number };

const id = fc.nat({ max: IDS - 1 });
const words = fc.uniqueArray(fc.constantFrom(...WORDS), { maxLength: 2 });
const comment = fc.option(fc.constantFrom(...WORDS), { nil: null });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    id,
    ip: fc.nat({ max: IPS.length - 1 }),
    name: fc.nat({ max: NAMES.length - 1 }),
    comment,
    tags: words,
    aliases: words,
  }),
  fc.record({ kind: fc.constant('comment' as const), id, comment }),
  fc.record({ kind: fc.constant('tags' as const), id, tags: words }),
  fc.record({ kind: fc.constant('aliases' as const), id, aliases: words }),
  fc.record({ kind: fc.constant('ip' as const), id, ip: fc.nat({ max: IPS.length - 1 }) }),
  fc.record({ kind: fc.constant('hostname' as const), id, name: fc.nat({ max: NAMES.length - 1 }) }),
  fc.record({ kind: fc.constant('delete' as const), id }),
  fc.record({ kind: fc.constant('batch' as const), id, comment: fc.constantFrom(...WORDS), tags: words }),
  fc.record({ kind: fc.constant('stale' as const), id, back: fc.nat({ max: 3 }) }),
);

interface Entry {
  ip: string;
  hostname: string;
  comment: string | null;
  tags: string[];
  aliases: string[];
}
/** One aggregate in the model: its versions in order, and its entry while live. */
interface Aggregate {
  versions: string[];
  live: Entry | null;
}
type Outcome = 'ok' | 'conflict' | 'duplicate' | 'not found';

/** The model's verdict and the events to append (chained on the current version). */
function plan(
  c: Command,
  agg: Aggregate,
  others: Aggregate[],
  run: string,
): { expect: Outcome; events: HostEvent[]; next: Entry | null; expected: string | null } {
  const current = agg.versions.at(-1) ?? null;
  const live = agg.live;
  const at = new Date();
  const taken = (ip: string, hostname: string) => others.some((o) => o.live?.ip === ip && o.live.hostname === hostname);
  const change = (events: HostEvent[], next: Entry): ReturnType<typeof plan> =>
    !live
      ? { expect: 'not found', events, next: null, expected: current }
      : { expect: taken(next.ip, next.hostname) ? 'duplicate' : 'ok', events, next, expected: current };
  switch (c.kind) {
    case 'create': {
      const entry = {
        ip: IPS[c.ip]!,
        hostname: `${NAMES[c.name]}.${run}.test`,
        comment: c.comment,
        tags: c.tags,
        aliases: c.aliases,
      };
      const event: HostEvent = {
        type: 'HostCreated',
        ipAddress: entry.ip,
        hostname: entry.hostname,
        comment: entry.comment,
        tags: entry.tags,
        aliases: entry.aliases,
        createdAt: at,
      };
      return {
        expect: live ? 'conflict' : taken(entry.ip, entry.hostname) ? 'duplicate' : 'ok',
        events: [event],
        next: entry,
        expected: current,
      };
    }
    case 'comment':
      return change(
        [{ type: 'CommentUpdated', oldComment: live?.comment ?? null, newComment: c.comment, updatedAt: at }],
        { ...live!, comment: c.comment },
      );
    case 'tags':
      return change([{ type: 'TagsModified', oldTags: live?.tags ?? [], newTags: c.tags, modifiedAt: at }], {
        ...live!,
        tags: c.tags,
      });
    case 'aliases':
      return change(
        [{ type: 'AliasesModified', oldAliases: live?.aliases ?? [], newAliases: c.aliases, modifiedAt: at }],
        { ...live!, aliases: c.aliases },
      );
    case 'ip':
      return change([{ type: 'IpAddressChanged', oldIp: live?.ip ?? '', newIp: IPS[c.ip]!, changedAt: at }], {
        ...live!,
        ip: IPS[c.ip]!,
      });
    case 'hostname': {
      const hostname = `${NAMES[c.name]}.${run}.test`;
      return change(
        [{ type: 'HostnameChanged', oldHostname: live?.hostname ?? '', newHostname: hostname, changedAt: at }],
        { ...live!, hostname },
      );
    }
    case 'batch':
      return change(
        [
          { type: 'CommentUpdated', oldComment: live?.comment ?? null, newComment: c.comment, updatedAt: at },
          { type: 'TagsModified', oldTags: live?.tags ?? [], newTags: c.tags, modifiedAt: at },
        ],
        { ...live!, comment: c.comment, tags: c.tags },
      );
    case 'delete':
      return live
        ? {
            expect: 'ok',
            events: [{ type: 'HostDeleted', ipAddress: live.ip, hostname: live.hostname, deletedAt: at }],
            next: null,
            expected: current,
          }
        : {
            expect: 'not found',
            events: [{ type: 'HostDeleted', ipAddress: '', hostname: '', deletedAt: at }],
            next: null,
            expected: current,
          };
    case 'stale': {
      // An older version of this aggregate, or one it never had.
      const older =
        agg.versions.length > 1 ? agg.versions[Math.max(0, agg.versions.length - 2 - c.back)]! : `never-${c.back}`;
      return {
        expect: 'conflict',
        events: [{ type: 'CommentUpdated', newComment: 'stale', updatedAt: at }],
        next: live,
        expected: older,
      };
    }
  }
}

function outcomeOf(error: unknown): Outcome {
  if (error instanceof ConcurrentWriteConflictError) return 'conflict';
  if (error instanceof DuplicateEntryError) return 'duplicate';
  if (error instanceof NotFoundError) return 'not found';
  throw error;
}

/** Runs `commands` against the store and the model; a description of the first difference, or null. */
async function runAgainstModel(commands: Command[]): Promise<string | null> {
  const run = uid('m');
  const ids = Array.from({ length: IDS }, (_, i) => `${run}-${i}`);
  const model: Aggregate[] = ids.map(() => ({ versions: [], live: null }));
  const store = createHostEventsStore(db.sql);
  for (const [step, c] of commands.entries()) {
    const agg = model[c.id]!;
    const p = plan(
      c,
      agg,
      model.filter((a) => a !== agg),
      run,
    );
    const envelopes = p.events.map((event) => envelope(ids[c.id]!, event));
    const got = await store.appendEvents(ids[c.id]!, envelopes, p.expected).then(() => 'ok' as const, outcomeOf);
    if (got !== p.expect) return `step ${step} ${JSON.stringify(c)}: ${got}, the model says ${p.expect}`;
    if (got === 'ok') {
      agg.versions.push(...envelopes.map((e) => e.eventVersion));
      agg.live = p.next;
    }
  }
  const entries = (await createHostsStore(db.sql).listAll()).filter((e) => e.id.startsWith(`${run}-`));
  const want = ids.flatMap((aggregateId, i) => {
    const live = model[i]!.live;
    return live
      ? [
          {
            id: aggregateId,
            ipAddress: live.ip,
            hostname: live.hostname,
            comment: live.comment,
            tags: live.tags,
            aliases: live.aliases,
            version: model[i]!.versions.at(-1),
          },
        ]
      : [];
  });
  const have = entries.map((e) => ({
    id: e.id,
    ipAddress: e.ipAddress,
    hostname: e.hostname,
    comment: e.comment,
    tags: e.tags,
    aliases: e.aliases,
    version: e.version,
  }));
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  if (JSON.stringify(have.sort(byId)) !== JSON.stringify(want.sort(byId)))
    return `projection ${JSON.stringify(have)}, the model ${JSON.stringify(want)}`;
  for (const [i, aggregateId] of ids.entries()) {
    const version = await store.getCurrentVersion(aggregateId);
    const count = await store.countEvents(aggregateId);
    const loaded = (await store.loadEvents(aggregateId)).map((e) => e.eventVersion);
    const { versions } = model[i]!;
    if (version !== (versions.at(-1) ?? null) || count !== versions.length || loaded.join() !== versions.join()) {
      return `${aggregateId}: version ${version}, ${count} events [${loaded.join()}], the model [${versions.join()}]`;
    }
  }
  return (await forkIn(db.sql, ids)) ?? (await projectionDrift(db.sql));
}

describe('hosts event store against a model', () => {
  it('random command sequences: every result, the projection and the versions match the model', async () => {
    const numRuns = rounds(25, 400);
    const result = await fc.check(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (commands) => {
        const broke = await runAgainstModel(commands);
        if (broke) throw new Error(broke);
      }),
      { numRuns },
    );
    reportPromise({
      promise: 'hosts: random command sequences behave as the model',
      rounds: result.numRuns,
      violations: result.failed ? 1 : 0,
      examples: result.failed ? [fc.defaultReportMessage(result) ?? 'failed'] : [],
    });
  });
});
