/**
 * Bulk appends through COPY hosts.host_events FROM STDIN: the rows stream to the server while
 * the next ones are encoded, and the statement trigger checks and applies all of them as one
 * set at the end. For 100k events this is ~1.7 s of server time, against ~3 s for INSERTs of
 * a JSON payload (whose parsing alone took ~1 s).
 *
 * Workaround: postgres.js 3.4.9 never settles a COPY FROM STDIN writable whose COPY fails
 * after end() (https://github.com/porsager/postgres/issues/1173), and the trigger's errors
 * come exactly then. So the writable's 'finish' is never awaited: after end(), a probe query
 * on the same connection runs once the COPY is over, and fails (25P02, transaction aborted)
 * when the COPY failed. The COPY runs in a savepoint; on failure it is rolled back and the
 * same events are appended with INSERT, which reports the real error (or succeeds).
 */
import type { Writable } from 'node:stream';
import { eventForJson, type BatchItem } from './host-types.js';
import { guardHosts } from './host-errors.js';
import { checkEnvelope, insertEvents } from './host-events.js';
import type { Queryable } from './queryable.js';
import type { PostgresType, TransactionSql } from 'postgres';

type Tx = TransactionSql<Record<string, PostgresType>>;

const ROWS_PER_WRITE = 1000;

/** Appends `items` in order with one COPY, inside `tx`; all or nothing. */
export async function copyEvents(tx: Tx, items: BatchItem[], onProgress?: (done: number) => void): Promise<void> {
  for (const item of items) checkEnvelope(item.envelope);
  let copied = false;
  try {
    await tx.savepoint(async (sp) => {
      await copyRows(sp, items, onProgress);
      copied = true;
    });
  } catch {
    copied = false;
  }
  if (!copied) await insertEvents(tx as Queryable, items);
}

async function copyRows(sp: Tx, items: BatchItem[], onProgress?: (done: number) => void): Promise<void> {
  const stream = (await sp`
    copy hosts.host_events (event_id, aggregate_id, event_type, event_version, expected_version, event, created_at, created_by)
    from stdin`.writable()) as Writable;
  let failure: unknown;
  stream.on('error', (error) => (failure ??= error));
  const isoCache = new Map<number, string>();
  const iso = (date: Date) => {
    const time = date.getTime();
    let text = isoCache.get(time);
    if (text === undefined) isoCache.set(time, (text = date.toISOString()));
    return text;
  };
  for (let start = 0; start < items.length; start += ROWS_PER_WRITE) {
    if (failure) throw failure;
    const end = Math.min(items.length, start + ROWS_PER_WRITE);
    let chunk = '';
    for (let i = start; i < end; i++) {
      const { envelope, expectedVersion } = items[i]!;
      chunk += `${field(envelope.eventId)}\t${field(envelope.aggregateId)}\t${field(envelope.event.type)}\t${field(envelope.eventVersion)}\t${field(expectedVersion)}\t${field(JSON.stringify(eventForJson(envelope.event, iso)))}\t${iso(envelope.createdAt)}\t${field(envelope.createdBy ?? null)}\n`;
    }
    const last = end === items.length;
    const written = last ? new Promise<void>((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve()))) : null;
    if (!last && !stream.write(chunk)) await drained(stream);
    if (written) await written;
    onProgress?.(end);
  }
  if (failure) throw failure;
  stream.end();
  await probe(sp);
}

/** Resolves on 'drain', or when the stream closes (an error is then in `failure`). */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** A query that runs after the COPY on the same connection: it fails if the COPY failed. */
async function probe(sp: Tx): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    // end() sends CopyDone on a later tick; until then postgres.js refuses queries with COPY_IN_PROGRESS.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await guardHosts(() => sp`select 1`, () => []);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'COPY_IN_PROGRESS' || attempt > 1000) throw error;
    }
  }
}

/** A value in COPY's text format: \N for null; backslash, tab, newline and CR escaped. */
function field(value: string | null): string {
  if (value === null) return '\\N';
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
}
