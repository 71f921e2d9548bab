/**
 * `hosts import` into an empty store, in bulk: new entries straight to COPY text for the
 * events, streams and projection, each row written by one template from the entry's fields,
 * with no event, envelope or row objects in between and no JSON.stringify of whole events: a
 * string is quoted as it is unless it holds a character that needs escaping (store/copy.ts).
 * test/unit/copy-fast-encoders.test.ts holds the text to what the general encoders (copyJson,
 * copyLine) write for the same entries.
 *
 * The events stream to the server a slice at a time while the file is read (the server loads
 * one slice while the next is parsed, checked and encoded; the events are the largest table);
 * the projection's rows are encoded in the same pass and kept as bytes, sent once the events
 * are in; then the streams. Every key and index of the three (empty) tables is built once,
 * after the load, in one round trip: the server's own work is what psql loading the same rows
 * would do.
 */
import { copyJsonArray, copyJsonString, copyText, copyTextArray, type Tx } from '../copy.js';
import { guard } from '../map-error.js';
import {
  copyTextInto,
  EVENT_COLUMNS,
  giveBackSeq,
  HOST_COLUMNS,
  type HostRowsChunk,
  STREAM_COLUMNS,
  startHostLoad,
  transactionTime,
} from './bulk-load.js';
import { buildKeys, dropKeys } from './keys-after.js';

/** A new entry (valid already). */
export interface NewHost {
  ipAddress: string;
  hostname: string;
  aliases: readonly string[];
  comment: string | null;
  tags: readonly string[];
}

export interface NewHostsEncoding {
  /** The entries' creation time (their events' createdAt, the rows' created_at and updated_at). */
  createdAt: Date;
  /** When the database recorded them, as the server's text. */
  recordedAt: string;
  createdBy: string | null;
  /** A new unique id; called three times per entry: its id, its event's id, its version. */
  newId: () => string;
}

/** Entries given their ids (in COPY text: id, event id, version, three per entry), numbered from a first seq. */
export interface NumberedHosts {
  hosts: NewHost[];
  ids: string[];
}

/** Entries per chunk of streams rows (~0.5 MB of COPY text). */
const STREAMS_PER_CHUNK = 8000;

/**
 * Loads new entries, each with one HostCreated event, inside `tx` (which must have claimed
 * the empty tables: claimEmptyHosts). `slices` may be produced while the load runs (a file
 * parsed and checked a slice at a time, overlapping the server's work); `maxHosts` is an upper
 * bound of their number (sequence numbers are reserved for it, and the unused ones given back).
 * `onRows` hears of each slice's entries as their events are sent; `onPhase` when
 * every slice is read and the server's part follows. Returns the number loaded.
 */
export async function loadNewHosts(
  tx: Tx,
  slices: Iterable<readonly NewHost[]>,
  maxHosts: number,
  encoding: Omit<NewHostsEncoding, 'recordedAt'>,
  onRows?: (n: number) => void,
  { hint, onPhase }: { hint?: string; onPhase?: (phase: string) => void } = {},
): Promise<number> {
  const enc: NewHostsEncoding = { ...encoding, recordedAt: await transactionTime(tx) };
  return guard({ entity: 'host event' }, async () => {
    const first = await startHostLoad(tx, maxHosts);
    const dropped = [
      await dropKeys(tx, 'hosts.host_events'),
      await dropKeys(tx, 'hosts.hosts'),
      await dropKeys(tx, 'hosts.streams'),
    ];
    const numbered: NumberedHosts = { hosts: [], ids: [] };
    // The projection's rows, as bytes ready to send once the events are in (a fifth of the
    // events' size; the file and its entries are in memory already).
    const projection: Uint8Array[] = [];
    function* events(): Generator<string> {
      for (const hosts of slices) {
        const from = numbered.hosts.length;
        const rows = projectionRows(hosts, first + from, enc, numbered);
        if (rows) projection.push(Buffer.from(rows));
        if (hosts.length) yield eventRows(numbered, from, numbered.hosts.length, first, enc);
        if (hosts.length) onRows?.(hosts.length);
      }
    }
    await copyTextInto(tx, 'hosts.host_events', EVENT_COLUMNS, events(), hint);
    onPhase?.('building keys and indexes');
    function* projected(): Generator<Uint8Array> {
      while (projection.length) yield projection.shift()!;
    }
    await copyTextInto(tx, 'hosts.hosts', HOST_COLUMNS, projected(), hint);
    await copyTextInto(tx, 'hosts.streams', STREAM_COLUMNS, streamChunks(numbered, first), hint);
    await buildKeys(tx, dropped, hint);
    await giveBackSeq(tx, first, numbered.hosts.length, maxHosts);
    await tx.unsafe('alter table hosts.host_events enable trigger user');
    return numbered.hosts.length;
  });
}

/** The projection rows of `hosts`, numbered from `seq`; their ids are made here and added to `numbered`. */
export function projectionRows(
  hosts: readonly NewHost[],
  seq: number,
  { createdAt, newId }: NewHostsEncoding,
  numbered: NumberedHosts,
): string {
  const at = createdAt.toISOString();
  let rows = '';
  for (const h of hosts) {
    const id = copyText(newId());
    const eventId = copyText(newId());
    const version = copyText(newId());
    numbered.hosts.push(h);
    numbered.ids.push(id, eventId, version);
    rows += `${id}\t${copyText(h.ipAddress)}\t${copyText(h.hostname)}\t${copyTextArray(h.aliases)}\t${h.comment === null ? '\\N' : copyText(h.comment)}\t${copyTextArray(h.tags)}\t${at}\t${at}\t${version}\t${seq++}\n`;
  }
  return rows;
}

/** The HostCreated event rows of numbered entries `from` to `to` (exclusive); the first entry's seq is `firstSeq`. */
export function eventRows(
  { hosts, ids }: NumberedHosts,
  from: number,
  to: number,
  firstSeq: number,
  { createdAt, recordedAt, createdBy }: NewHostsEncoding,
): string {
  const at = createdAt.toISOString();
  const tail = `\t${at}\t${copyText(recordedAt)}\t${createdBy === null ? '\\N' : copyText(createdBy)}\n`;
  let rows = '';
  for (let i = from; i < to; i++) {
    const h = hosts[i]!;
    rows += `${firstSeq + i}\t${ids[3 * i + 1]}\t${ids[3 * i]}\tHostCreated\t${ids[3 * i + 2]}\t\\N\t{"type":"HostCreated","ipAddress":${copyJsonString(h.ipAddress)},"hostname":${copyJsonString(h.hostname)},"aliases":${copyJsonArray(h.aliases)},"comment":${h.comment === null ? 'null' : copyJsonString(h.comment)},"tags":${copyJsonArray(h.tags)},"createdAt":"${at}"}${tail}`;
  }
  return rows;
}

/** The streams rows of numbered entries `from` to `to` (exclusive): one event each. */
export function streamRows({ ids }: NumberedHosts, from: number, to: number, firstSeq: number): string {
  let rows = '';
  for (let i = from; i < to; i++) rows += `${ids[3 * i]}\t${ids[3 * i + 2]}\t${firstSeq + i}\t1\n`;
  return rows;
}

function* streamChunks(numbered: NumberedHosts, firstSeq: number): Generator<string> {
  for (let from = 0; from < numbered.hosts.length; from += STREAMS_PER_CHUNK)
    yield streamRows(numbered, from, Math.min(from + STREAMS_PER_CHUNK, numbered.hosts.length), firstSeq);
}

/** The three texts of new entries, one chunk per slice, their events numbered from `firstSeq`: the rows loadNewHosts writes. */
export function* newHostChunks(
  slices: Iterable<readonly NewHost[]>,
  firstSeq: number,
  encoding: NewHostsEncoding,
): Generator<HostRowsChunk> {
  let seq = firstSeq;
  for (const hosts of slices) {
    const numbered: NumberedHosts = { hosts: [], ids: [] };
    const projection = projectionRows(hosts, seq, encoding, numbered);
    const events = eventRows(numbered, 0, hosts.length, seq, encoding);
    const streams = streamRows(numbered, 0, hosts.length, seq);
    seq += hosts.length;
    if (hosts.length) yield { events, eventCount: hosts.length, streams, projection, live: hosts.length };
  }
}
