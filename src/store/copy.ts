/**
 * COPY ... FROM STDIN through postgres.js, shared by every bulk path: the text format, and a
 * writer that survives a postgres.js bug.
 *
 * Workaround: postgres.js 3.4.9 never settles a COPY FROM STDIN writable whose COPY fails after
 * end(), and drops the server's error (https://github.com/porsager/postgres/issues/1173:
 * ErrorResponse arrives after final() has cleared the stream, so nobody hears it). So the
 * writable's 'finish' is never awaited: after end(), a probe query on the same connection runs
 * once the COPY is over and fails (25P02, transaction aborted) when the COPY failed. The COPY
 * runs in a savepoint, so the caller's transaction survives and can find out why.
 */
import type { Writable } from 'node:stream';
import type { Tx } from './queryable.js';

export type { Tx } from './queryable.js';

export type CopyValue = string | number | boolean | Date | null | undefined | string[] | Record<string, unknown>;

const SPECIAL = /[\\\t\n\r]/;

/** One value in COPY's text format: \N for null; backslash, tab, newline and CR escaped. */
export function copyValue(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  switch (typeof value) {
    case 'number':
      return String(value);
    case 'string':
      return copyText(value);
    case 'boolean':
      return value ? 't' : 'f';
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value))
    return copyText(`{${value.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`);
  return copyJson(value);
}

/** Text with COPY's four special characters escaped. */
export function copyText(text: string): string {
  return SPECIAL.test(text)
    ? text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
    : text;
}

/**
 * A value as JSON in COPY's text format. JSON.stringify already writes tab, newline and CR as
 * escapes, so only its backslashes need doubling.
 */
export function copyJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}

// What JSON.stringify escapes in a string: the quote, the backslash, control characters, and
// lone surrogates (written as \uXXXX); a string without any is written as it is.
const JSON_SPECIAL = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as a JSON string, in COPY's text format: copyJson(text), faster when nothing needs escaping. */
export function copyJsonString(text: string): string {
  return JSON_SPECIAL.test(text) ? copyJson(text) : `"${text}"`;
}

/** A list of strings as a JSON array, in COPY's text format: copyJson(values). */
export function copyJsonArray(values: readonly string[]): string {
  if (values.length === 0) return '[]';
  let out = `[${copyJsonString(values[0]!)}`;
  for (let i = 1; i < values.length; i++) out += `,${copyJsonString(values[i]!)}`;
  return `${out}]`;
}

// What an element of copyValue's array literal escapes: its quotes and backslashes, then the
// COPY specials (tab, newline, CR).
const ARRAY_ELEMENT_SPECIAL = /["\\\t\n\r]/;

/** A list of strings as a PostgreSQL text[] literal in COPY's text format: copyValue(values), faster. */
export function copyTextArray(values: readonly string[]): string {
  if (values.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (ARRAY_ELEMENT_SPECIAL.test(value)) return copyValue([...values]);
    out += i ? `,"${value}"` : `"${value}"`;
  }
  return `${out}}`;
}

/** One row in COPY's text format, with its newline. */
export function copyLine(values: CopyValue[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i ? '\t' : '') + copyValue(values[i]);
  return `${line}\n`;
}

/** Thrown when the server refused a COPY (the server's own message is lost: see above). */
export class CopyRefused extends Error {
  constructor(readonly statement: string) {
    super(`the server refused the rows of ${statement}`);
  }
}

/**
 * Streams `chunks` of COPY text (strings, or their UTF-8 bytes) into `statement` (a trusted `copy ... from stdin`), in a
 * savepoint of `tx`, with back-pressure. Throws CopyRefused when the server rejected the data;
 * the savepoint is then rolled back and `tx` stays usable.
 */
export async function copyIn(
  tx: Tx,
  statement: string,
  chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
): Promise<void> {
  try {
    await tx.savepoint(async (sp) => {
      const stream = (await sp.unsafe(statement).writable()) as Writable;
      let failure: unknown;
      stream.on('error', (error) => (failure ??= error));
      for await (const chunk of chunks) {
        if (failure) throw failure;
        if (!stream.write(chunk)) await drained(stream);
      }
      if (failure) throw failure;
      stream.end();
      await probe(sp);
    });
  } catch (error) {
    if ((error as { code?: string }).code === '25P02')
      throw new CopyRefused(statement.replace(/\s+from stdin.*$/is, ''));
    throw error;
  }
}

/** Resolves on 'drain', or when the stream closes (an error is then recorded). */
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

/** A query after the COPY on the same connection: it fails (25P02) if the COPY failed. */
async function probe(sp: Tx): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    // end() sends CopyDone on a later tick; until then postgres.js refuses queries with COPY_IN_PROGRESS.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await sp`select 1`;
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'COPY_IN_PROGRESS' || attempt > 1000) throw error;
    }
  }
}
