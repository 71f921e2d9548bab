/**
 * `hosts import` into an empty store, in bulk: new entries straight to COPY text for the
 * events, streams and projection (loadHostRows), each row written by one template from the
 * entry's fields, with no event, envelope or row objects in between and no JSON.stringify of
 * whole events: a string is quoted as it is unless it holds a character that needs escaping
 * (store/copy.ts). test/unit/new-hosts-copy.test.ts holds the text to what the general
 * encoders (copyJson, copyLine) write for the same entries.
 */
import { copyJsonArray, copyJsonString, copyText, copyTextArray, type Tx } from '../copy.js';
import { type HostRowsChunk, loadHostRows, transactionTime } from './bulk-load.js';

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

/**
 * Loads new entries, each with one HostCreated event, inside `tx` (which must have claimed
 * the empty tables: claimEmptyHosts). `slices` may be produced while the load runs (a file
 * parsed and checked a slice at a time, overlapping the server's work); `maxHosts` is an upper
 * bound of their number (sequence numbers are reserved for it, and the unused ones given back).
 * Returns the number loaded.
 */
export async function loadNewHosts(
  tx: Tx,
  slices: Iterable<readonly NewHost[]>,
  maxHosts: number,
  encoding: Omit<NewHostsEncoding, 'recordedAt'>,
  onRows?: (n: number) => void,
  options: { hint?: string; onPhase?: (phase: string) => void } = {},
): Promise<number> {
  const recordedAt = await transactionTime(tx);
  return loadHostRows(
    tx,
    maxHosts,
    (firstSeq) => newHostChunks(slices, firstSeq, { ...encoding, recordedAt }),
    onRows,
    options,
  );
}

/** The COPY text of new entries, one chunk per slice, their events numbered from `firstSeq`. */
export function* newHostChunks(
  slices: Iterable<readonly NewHost[]>,
  firstSeq: number,
  { createdAt, recordedAt, createdBy, newId }: NewHostsEncoding,
): Generator<HostRowsChunk> {
  const at = createdAt.toISOString();
  const recorded = copyText(recordedAt);
  const by = createdBy === null ? '\\N' : copyText(createdBy);
  let seq = firstSeq;
  for (const hosts of slices) {
    let events = '';
    let streams = '';
    let projection = '';
    for (const h of hosts) {
      const id = copyText(newId());
      const eventId = copyText(newId());
      const version = copyText(newId());
      const noComment = h.comment === null;
      events += `${seq}\t${eventId}\t${id}\tHostCreated\t${version}\t\\N\t{"type":"HostCreated","ipAddress":${copyJsonString(h.ipAddress)},"hostname":${copyJsonString(h.hostname)},"aliases":${copyJsonArray(h.aliases)},"comment":${noComment ? 'null' : copyJsonString(h.comment!)},"tags":${copyJsonArray(h.tags)},"createdAt":"${at}"}\t${at}\t${recorded}\t${by}\n`;
      streams += `${id}\t${version}\t${seq}\t1\n`;
      projection += `${id}\t${copyText(h.ipAddress)}\t${copyText(h.hostname)}\t${copyTextArray(h.aliases)}\t${noComment ? '\\N' : copyText(h.comment!)}\t${copyTextArray(h.tags)}\t${at}\t${at}\t${version}\t${seq}\n`;
      seq++;
    }
    if (hosts.length) yield { events, eventCount: hosts.length, streams, projection, live: hosts.length };
  }
}
