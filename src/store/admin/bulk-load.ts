/**
 * Bulk loading with COPY (postgres.js copy streams), streamed with back-pressure so memory
 * stays bounded whatever the volume. Used by `pgstore seed --synthetic`.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgstoreError } from '../../errors.js';
import { copyIn, copyJson, copyLine, CopyRefused, copyText, type CopyValue, type Tx } from '../copy.js';
import type { HostEntry } from '../hosts/index.js';
import { guard } from '../map-error.js';
import { withKeysBuiltAfter } from './keys-after.js';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  status: 'active' | 'suspended';
  emailVerifiedAt: Date | null;
  createdAt: Date;
}

export interface TenantRow {
  id: string;
  name: string;
  domain: string;
  createdAt: Date;
}

export interface HostEventRow {
  eventId: string;
  aggregateId: string;
  type: string;
  eventVersion: string;
  expectedVersion: string | null;
  event: Record<string, unknown>;
  createdAt: Date;
  /** When the database recorded it, as the server's text (default: createdAt, so synthetic data is reproducible). */
  recordedAt?: string;
  createdBy?: string | null;
}

/** One host's events, and its final state when it is still live. */
export interface HostGroup {
  events: HostEventRow[];
  live: HostEntry | null;
}

const CHUNK = 256 * 1024;

/** What to do when synthetic rows collide with rows already there. */
const SYNTHETIC_HINT =
  'Nothing was kept. Loading the same synthetic data twice collides: use another --random-seed, or `pgstore reset` first.';

/** Rows as COPY text, grouped into chunks of about 256 kB. */
async function* copyChunks<T>(
  rows: Iterable<T> | AsyncIterable<T>,
  toValues: (row: T) => CopyValue[],
  onRows?: (n: number) => void,
): AsyncGenerator<string> {
  let chunk = '';
  let count = 0;
  for await (const row of rows) {
    chunk += copyLine(toValues(row));
    count++;
    if (chunk.length >= CHUNK) {
      yield chunk;
      onRows?.(count);
      chunk = '';
      count = 0;
    }
  }
  if (chunk) {
    yield chunk;
    onRows?.(count);
  }
}

/** COPYs rows into `table (columns)`; `table` and `columns` are trusted constants. */
function copyInto<T>(
  tx: Tx,
  table: string,
  columns: string[],
  rows: Iterable<T> | AsyncIterable<T>,
  toValues: (row: T) => CopyValue[],
  onRows?: (n: number) => void,
): Promise<void> {
  return copyTextInto(tx, table, columns, copyChunks(rows, toValues, onRows));
}

/** COPYs text already in COPY format; a refusal becomes one clear error. */
export async function copyTextInto(
  tx: Tx,
  table: string,
  columns: string[],
  chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
  hint = SYNTHETIC_HINT,
): Promise<void> {
  try {
    await copyIn(tx, `copy ${table} (${columns.join(', ')}) from stdin`, chunks);
  } catch (error) {
    if (!(error instanceof CopyRefused)) throw error;
    throw new PgstoreError(
      `the server refused the rows for ${table}: a value is invalid or already there (a unique key such as an id or email)`,
      {
        hint,
        cause: error,
      },
    );
  }
}

/** Loads users (ids and timestamps given, so the result is reproducible). */
export function loadUsers(tx: Tx, rows: Iterable<UserRow>, onRows?: (n: number) => void): Promise<void> {
  return guard({ entity: 'user', uniqueFields: { users_email_key: 'email' } }, () =>
    copyInto(
      tx,
      'auth.users',
      ['id', 'email', 'name', 'status', 'email_verified_at', 'created_at', 'updated_at'],
      rows,
      (u) => [u.id, u.email, u.name, u.status, u.emailVerifiedAt, u.createdAt, u.createdAt],
      onRows,
    ),
  );
}

/** Loads tenants. */
export function loadTenants(tx: Tx, rows: Iterable<TenantRow>, onRows?: (n: number) => void): Promise<void> {
  return guard({ entity: 'tenant' }, () =>
    copyInto(
      tx,
      'tenancy.tenants',
      ['id', 'name', 'domain', 'created_at', 'updated_at'],
      rows,
      (t) => [t.id, t.name, t.domain, t.createdAt, t.createdAt],
      onRows,
    ),
  );
}

export interface MembershipRow {
  tenantId: string;
  userId: string;
  username: string;
  createdAt: Date;
}

/** Loads tenant memberships. */
export function loadMemberships(tx: Tx, rows: Iterable<MembershipRow>, onRows?: (n: number) => void): Promise<void> {
  return guard({ entity: 'membership' }, () =>
    copyInto(
      tx,
      'tenancy.memberships',
      ['tenant_id', 'user_id', 'username', 'created_at', 'updated_at'],
      rows,
      (m) => [m.tenantId, m.userId, m.username, m.createdAt, m.createdAt],
      onRows,
    ),
  );
}

/**
 * Loads host events with the triggers off, and writes the streams and the hosts projection
 * from each host's known final state (instead of folding the log afterwards), all inside the
 * caller's transaction. Sequence numbers are reserved up front so that `seq`, `last_seq` and
 * the projection agree. Events stream straight from the generator into COPY (generation
 * overlaps the server's work); the small per-host rows wait in temporary files, so memory
 * stays bounded whatever the volume. Needs the table owner. Used by `seed --synthetic`, and by
 * `hosts import` into an empty store (see claimEmptyHosts). `onPhase` hears when the events
 * are in and the keys, indexes, streams and projection follow (seconds at a million rows).
 */
export function loadHosts(
  tx: Tx,
  groups: Iterable<HostGroup>,
  totalEvents: number,
  onRows?: (n: number) => void,
  options: { hint?: string; onPhase?: (phase: string) => void } = {},
): Promise<number> {
  return loadHostRows(tx, totalEvents, (firstSeq) => groupChunks(groups, firstSeq), onRows, options);
}

/** A slice of a bulk load of hosts, in COPY text: events, and the streams and projection rows of the same hosts. */
export interface HostRowsChunk {
  /** hosts.host_events rows (the columns loadHostRows names), seq given. */
  events: string;
  eventCount: number;
  /** hosts.streams rows: aggregate_id, version, last_seq, event_count. */
  streams: string;
  /** hosts.hosts rows: id, ip_address, hostname, aliases, comment, tags, created_at, updated_at, version, last_seq. */
  projection: string;
  live: number;
}

/** loadHosts's groups as chunks of about CHUNK characters of events. */
function* groupChunks(groups: Iterable<HostGroup>, firstSeq: number): Generator<HostRowsChunk> {
  let seq = firstSeq;
  const iso = lastIso();
  let chunk = '';
  let count = 0;
  // The per-host rows go to their files in chunks too: one write per host cost ~1 s per 100k.
  let streams = '';
  let projection = '';
  let live = 0;
  for (const group of groups) {
    for (const e of group.events) chunk += eventLine(seq++, e, iso);
    count += group.events.length;
    const last = group.events.at(-1);
    if (last) streams += copyLine([last.aggregateId, last.eventVersion, seq - 1, group.events.length]);
    const h = group.live;
    if (h && last) {
      projection += copyLine([
        h.id,
        h.ipAddress,
        h.hostname,
        h.aliases,
        h.comment,
        h.tags,
        h.createdAt,
        h.updatedAt,
        h.version,
        seq - 1,
      ]);
      live++;
    }
    if (chunk.length >= CHUNK) {
      yield { events: chunk, eventCount: count, streams, projection, live };
      chunk = streams = projection = '';
      count = live = 0;
    }
  }
  if (chunk || streams || projection) yield { events: chunk, eventCount: count, streams, projection, live };
}

/** The columns of the COPY text of each host table, as the bulk loads write them. */
export const EVENT_COLUMNS = [
  'seq',
  'event_id',
  'aggregate_id',
  'event_type',
  'event_version',
  'expected_version',
  'event',
  'created_at',
  'recorded_at',
  'created_by',
];
export const STREAM_COLUMNS = ['aggregate_id', 'version', 'last_seq', 'event_count'];
export const HOST_COLUMNS = [
  'id',
  'ip_address',
  'hostname',
  'aliases',
  'comment',
  'tags',
  'created_at',
  'updated_at',
  'version',
  'last_seq',
];

/**
 * The start of a bulk load of the host tables: their exclusive lock, the triggers off, and
 * `totalEvents` sequence numbers reserved. Returns the first one.
 */
export async function startHostLoad(tx: Tx, totalEvents: number): Promise<number> {
  // The strongest lock first (a no-op after claimEmptyHosts): the drops that follow would
  // otherwise upgrade a weaker one, which can deadlock with a reader that then appends.
  await tx.unsafe(`lock table ${HOST_TABLES} in access exclusive mode`);
  await tx.unsafe('alter table hosts.host_events disable trigger user');
  const [reserved] = await tx.unsafe<{ first: string }[]>(
    `select nextval('hosts.host_events_seq_seq') as first, setval('hosts.host_events_seq_seq', currval('hosts.host_events_seq_seq') + ${Math.max(0, totalEvents - 1)})`,
  );
  return Number(reserved!.first);
}

/**
 * Fewer events than reserved (an upper bound was given): the unused numbers go back, unless
 * someone drew a number since (then they stay a gap, as after a rollback).
 */
export async function giveBackSeq(tx: Tx, first: number, used: number, reserved: number): Promise<void> {
  if (used >= reserved) return;
  await tx.unsafe(
    `select ${used > 0 ? `setval('hosts.host_events_seq_seq', ${first + used - 1})` : `setval('hosts.host_events_seq_seq', ${first}, false)`}
      where (select last_value from hosts.host_events_seq_seq) = ${first + Math.max(0, reserved - 1)}`,
  );
}

/**
 * loadHosts's machinery for rows already encoded: `encode(firstSeq)` gives the chunks, their
 * events numbered from the reserved `firstSeq` on, `totalEvents` in all. Returns the number
 * of live hosts written.
 */
export async function loadHostRows(
  tx: Tx,
  totalEvents: number,
  encode: (firstSeq: number) => Iterable<HostRowsChunk>,
  onRows?: (n: number) => void,
  { hint = SYNTHETIC_HINT, onPhase }: { hint?: string; onPhase?: (phase: string) => void } = {},
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'pgstore-seed-'));
  try {
    return await guard({ entity: 'host event' }, async () => {
      const first = await startHostLoad(tx, totalEvents);
      const streamsPath = join(dir, 'streams.copy');
      const hostsPath = join(dir, 'hosts.copy');
      const streamsOut = createWriteStream(streamsPath);
      const hostsOut = createWriteStream(hostsPath);
      let live = 0;
      let used = 0;
      async function* events(): AsyncGenerator<string> {
        for (const chunk of encode(first)) {
          live += chunk.live;
          used += chunk.eventCount;
          if (chunk.events) yield chunk.events;
          if (chunk.eventCount) onRows?.(chunk.eventCount);
          await Promise.all([write(streamsOut, chunk.streams), write(hostsOut, chunk.projection)]);
        }
      }
      await withKeysBuiltAfter(tx, 'hosts.host_events', hint, async () => {
        await copyTextInto(tx, 'hosts.host_events', EVENT_COLUMNS, events(), hint);
        onPhase?.('building keys and indexes');
      });
      await giveBackSeq(tx, first, used, totalEvents);
      await Promise.all([new Promise((r) => streamsOut.end(r)), new Promise((r) => hostsOut.end(r))]);
      await withKeysBuiltAfter(tx, 'hosts.streams', hint, () =>
        copyFile(tx, 'hosts.streams', STREAM_COLUMNS, streamsPath, hint),
      );
      await withKeysBuiltAfter(tx, 'hosts.hosts', hint, () =>
        copyFile(tx, 'hosts.hosts', HOST_COLUMNS, hostsPath, hint),
      );
      await tx.unsafe('alter table hosts.host_events enable trigger user');
      return live;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Whether this transaction may bulk-load new hosts into an empty projection: it can own the
 * hosts tables (to switch triggers off and rebuild indexes), it gets their exclusive lock at
 * once, and hosts.hosts is empty under that lock. The lock is taken now, in full, so the load
 * never has to upgrade it later (an upgrade could deadlock with a transaction that read the
 * projection and then appends). When any of this fails, the lock is given back and the caller
 * takes the checked path; otherwise it is held to the end of the transaction (readers wait).
 */
export async function claimEmptyHosts(tx: Tx): Promise<boolean> {
  const [access] = await tx.unsafe<{ owner: boolean }[]>(
    `select bool_and(pg_has_role(current_user, c.relowner, 'USAGE')) as owner
       from pg_class c where c.oid in ('hosts.host_events'::regclass, 'hosts.streams'::regclass, 'hosts.hosts'::regclass)`,
  );
  if (!access?.owner) return false;
  try {
    await tx.savepoint(async (sp) => {
      await sp.unsafe(`lock table ${HOST_TABLES} in access exclusive mode nowait`);
      const [state] = await sp.unsafe<{ empty: boolean }[]>('select not exists (select 1 from hosts.hosts) as empty');
      if (!state?.empty) throw new NotClaimed();
    });
    return true;
  } catch (error) {
    // 55P03: someone else is using the tables; the savepoint's rollback released the lock.
    if (error instanceof NotClaimed || (error as { code?: string }).code === '55P03') return false;
    throw error;
  }
}

const HOST_TABLES = 'hosts.host_events, hosts.streams, hosts.hosts';

class NotClaimed extends Error {}

/** Writes `text` to `out`, waiting for 'drain' when its buffer is full. */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (text && !out.write(text)) await once(out, 'drain');
}

/** date → ISO text, remembering only the last one: a host's events share times, and host-types' isoFormatter would keep every distinct time of a 10M-event load. */
function lastIso(): (date: Date) => string {
  let time = NaN;
  let text = '';
  return (date) => {
    if (date.getTime() !== time) {
      time = date.getTime();
      text = date.toISOString();
    }
    return text;
  };
}

/** One host event as a COPY line; the columns are those loadHosts names. */
function eventLine(seq: number, e: HostEventRow, iso: (date: Date) => string): string {
  const at = iso(e.createdAt);
  const recorded = e.recordedAt ?? at;
  const expected = e.expectedVersion === null ? '\\N' : copyText(e.expectedVersion);
  const by = e.createdBy === null || e.createdBy === undefined ? '\\N' : copyText(e.createdBy);
  return `${seq}\t${copyText(e.eventId)}\t${copyText(e.aggregateId)}\t${copyText(e.type)}\t${copyText(e.eventVersion)}\t${expected}\t${copyJson(e.event)}\t${at}\t${recorded}\t${by}\n`;
}

/** COPYs a file of rows already in COPY text. */
function copyFile(tx: Tx, table: string, columns: string[], path: string, hint: string): Promise<void> {
  return copyTextInto(tx, table, columns, createReadStream(path, { encoding: 'utf8', highWaterMark: CHUNK }), hint);
}

/** The transaction's start time as the server writes it (text: a Date would drop the microseconds). */
export async function transactionTime(tx: Tx): Promise<string> {
  const [row] = await tx<{ now: string }[]>`select now()::text as now`;
  return row!.now;
}

/** Row counts of the tables synthetic data fills. */
export async function syntheticCounts(tx: Tx): Promise<Record<string, number>> {
  const [row] = await tx.unsafe<Record<string, number>[]>(`
    select (select count(*) from auth.users)::int as "auth.users",
           (select count(*) from tenancy.tenants)::int as "tenancy.tenants",
           (select count(*) from tenancy.memberships)::int as "tenancy.memberships",
           (select count(*) from hosts.host_events)::int as "hosts.host_events",
           (select count(*) from hosts.hosts)::int as "hosts.hosts"`);
  return row ?? {};
}
