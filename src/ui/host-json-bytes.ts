/**
 * Host entries as JSON, written as bytes straight from COPY's text rows (store/hosts/
 * hosts-copy-out.ts says their columns) into one buffer a chunk: no strings, no row objects,
 * no Dates, next to no garbage. This is what lets `hosts list --json` of 100k entries cost less
 * than fetching the rows as objects (issue 15 §1: JSON.stringify's walk, UTF-8 decoding and
 * encoding and the collector were most of its time). The text is JSON.stringify's of the
 * library's entries (listAll()), byte for byte: test/e2e/hosts-list-json-text.test.ts.
 *
 * JSON.stringify escapes `"` and `\`, \b \t \n \f \r by name and other bytes below 0x20 as
 * \u00xx (lower case); everything else, UTF-8 sequences included, is copied (PostgreSQL text is
 * valid UTF-8: no lone surrogates to escape). COPY's own escapes are JSON's but for \v.
 */
/** The layouts: an element of `JSON.stringify(list, null, 2)`, or a line of NDJSON. */
export type HostJsonLayout = 'element' | 'line';

const enc = (text: string) => Buffer.from(text, 'utf8');
const HEX = enc('0123456789abcdef');
/** For each byte below 0x20, the letter of its short escape (\b \t \n \f \r), else 0 (\u00xx). */
const SHORT = new Uint8Array(32);
for (const [byte, letter] of [
  [0x08, 'b'],
  [0x09, 't'],
  [0x0a, 'n'],
  [0x0c, 'f'],
  [0x0d, 'r'],
] as const)
  SHORT[byte] = letter.charCodeAt(0);
const NULL = enc('null');
const VT = enc('\\u000b');

const ELEMENT_KEYS = [
  ',\n  {\n    "id": ',
  ',\n    "ipAddress": ',
  ',\n    "hostname": ',
  ',\n    "aliases": ',
  ',\n    "comment": ',
  ',\n    "tags": ',
  ',\n    "createdAt": ',
  ',\n    "updatedAt": ',
  ',\n    "version": ',
].map(enc);
const ELEMENT_END = enc('\n  }');
const LINE_KEYS = [
  '{"id":',
  ',"ipAddress":',
  ',"hostname":',
  ',"aliases":',
  ',"comment":',
  ',"tags":',
  ',"createdAt":',
  ',"updatedAt":',
  ',"version":',
].map(enc);
const LINE_END = enc('}\n');

// The page being written (module state, not an object: these loops run for every byte).
const EMPTY = Buffer.alloc(0);
let buf = EMPTY;
let pos = 0;

/** Room for `n` more bytes. */
function room(n: number): void {
  if (pos + n <= buf.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + n));
  buf.copy(bigger, 0, 0, pos);
  buf = bigger;
}

function put(bytes: Uint8Array): void {
  room(bytes.length);
  for (let i = 0; i < bytes.length; i++) buf[pos++] = bytes[i]!;
}

const TAB = 0x09;
const NL = 0x0a;
const BACKSLASH = 0x5c;

/** Where the field starting at `i` ends (its tab or newline). */
function fieldEnd(src: Uint8Array, i: number): number {
  while (src[i] !== TAB && src[i] !== NL) i++;
  return i;
}

/**
 * A text field (COPY-escaped) at `i` as a JSON string, or `null` for `\N`; returns the index
 * of the delimiter after it.
 */
function putText(src: Uint8Array, i: number): number {
  if (src[i] === BACKSLASH && src[i + 1] === 0x4e && (src[i + 2] === TAB || src[i + 2] === NL)) {
    put(NULL);
    return i + 2;
  }
  buf[pos++] = 0x22;
  for (;;) {
    const b = src[i]!;
    if (b >= 0x20) {
      if (b === BACKSLASH) {
        // COPY's escape: \\ \b \f \n \r \t are JSON's too; \v is JSON's \u000b.
        const c = src[++i]!;
        if (c === 0x76) {
          put(VT);
        } else {
          buf[pos++] = BACKSLASH;
          buf[pos++] = c;
        }
      } else {
        if (b === 0x22) buf[pos++] = BACKSLASH;
        buf[pos++] = b;
      }
    } else if (b === TAB || b === NL) {
      break;
    } else {
      // A control character COPY sends as it is.
      buf[pos++] = BACKSLASH;
      const letter = SHORT[b]!;
      if (letter !== 0) {
        buf[pos++] = letter;
      } else {
        buf[pos++] = 0x75; // u00xx
        buf[pos++] = 0x30;
        buf[pos++] = 0x30;
        buf[pos++] = HEX[b >> 4]!;
        buf[pos++] = HEX[b & 15]!;
      }
    }
    i++;
  }
  buf[pos++] = 0x22;
  return i;
}

let scratch = new Uint8Array(1024);

/** A JSON field (COPY-escaped: its backslashes doubled) at `i`, unescaped into `scratch`; returns its length. */
function unescapeJson(src: Uint8Array, i: number, end: number): number {
  if (scratch.length < end - i) scratch = new Uint8Array(2 * (end - i));
  let n = 0;
  for (; i < end; i++) {
    const b = src[i]!;
    scratch[n++] = b;
    if (b === BACKSLASH) i++; // \\ is one backslash (JSON text has no other COPY escape)
  }
  return n;
}

/** A line break and the indent of `level` (two spaces a level). */
function newline(level: number): void {
  room(level * 2 + 1);
  buf[pos++] = NL;
  for (let s = 0; s < level * 2; s++) buf[pos++] = 0x20;
}

/**
 * The list field at `i` (array_to_json's compact JSON) as it is (`line`) or as
 * JSON.stringify(…, null, 2) lays it out two levels down (`element`: `[]`, or each element on
 * its own line, nested arrays too); returns the index of the delimiter after it.
 */
function putList(src: Uint8Array, i: number, pretty: boolean): number {
  const end = fieldEnd(src, i);
  const n = unescapeJson(src, i, end);
  const json = scratch;
  if (!pretty) {
    for (let k = 0; k < n; k++) buf[pos++] = json[k]!;
    return end;
  }
  let level = 2;
  for (let k = 0; k < n; k++) {
    const b = json[k]!;
    if (b === 0x22) {
      // A string: copied as it is (already escaped), to its closing quote.
      buf[pos++] = b;
      for (k++; k < n; k++) {
        const c = json[k]!;
        buf[pos++] = c;
        if (c === BACKSLASH) buf[pos++] = json[++k]!;
        else if (c === 0x22) break;
      }
    } else if (b === 0x5b) {
      buf[pos++] = b;
      if (json[k + 1] === 0x5d) {
        buf[pos++] = json[++k]!;
      } else {
        level++;
        newline(level);
      }
    } else if (b === 0x5d) {
      level--;
      newline(level);
      buf[pos++] = b;
    } else if (b === 0x2c) {
      buf[pos++] = b;
      newline(level);
    } else if (b !== 0x20 && b !== NL) {
      buf[pos++] = b; // null, numbers
    }
  }
  return end;
}

/**
 * A UTC time field (`2026-01-02 03:04:05.123456`, DateStyle ISO) as a JavaScript Date's
 * toISOString gives it (`"2026-01-02T03:04:05.123Z"`: milliseconds, truncated as the driver's
 * Date truncates them); returns the index of the delimiter after it. A time of another shape
 * (infinity, a year past 9999 or before 1) goes through a Date, as the library's does.
 */
function putTime(src: Uint8Array, i: number): number {
  const end = fieldEnd(src, i);
  const n = end - i;
  if (n < 19 || src[i + 4] !== 0x2d || src[i + 10] !== 0x20 || (n > 19 && src[i + 19] !== 0x2e) || n > 26) {
    const text = Buffer.from(src.subarray(i, end)).toString('utf8');
    const date = new Date(`${text.replace(' ', 'T')}Z`);
    put(Number.isNaN(date.getTime()) ? NULL : enc(JSON.stringify(date)));
    return end;
  }
  buf[pos++] = 0x22;
  for (let k = 0; k < 10; k++) buf[pos++] = src[i + k]!;
  buf[pos++] = 0x54; // T
  for (let k = 11; k < 19; k++) buf[pos++] = src[i + k]!;
  buf[pos++] = 0x2e;
  for (let k = 20; k < 23; k++) buf[pos++] = k < n ? src[i + k]! : 0x30;
  buf[pos++] = 0x5a; // Z
  buf[pos++] = 0x22;
  return end;
}

/**
 * COPY text rows (whole rows) as JSON bytes: `element`s, each starting with `,\n` (the first
 * one's becomes the array's `[\n`: ui/stream-out.ts writeJsonText), or NDJSON `line`s.
 */
export function hostJsonFromCopy(rows: Uint8Array, layout: HostJsonLayout): Buffer {
  buf = Buffer.allocUnsafe(rows.length * 3 + 4096);
  pos = 0;
  const element = layout === 'element';
  const keys = element ? ELEMENT_KEYS : LINE_KEYS;
  const last = element ? ELEMENT_END : LINE_END;
  let i = 0;
  while (i < rows.length) {
    // Room for the row's worst case: every byte escaped as \u00xx or a list's comma broken.
    const lineEnd = rows.indexOf(NL, i);
    room((lineEnd - i) * 8 + 512);
    put(keys[0]!);
    i = putText(rows, i) + 1;
    put(keys[1]!);
    i = putText(rows, i) + 1;
    put(keys[2]!);
    i = putText(rows, i) + 1;
    put(keys[3]!);
    i = putList(rows, i, element) + 1;
    put(keys[4]!);
    i = putText(rows, i) + 1;
    put(keys[5]!);
    i = putList(rows, i, element) + 1;
    put(keys[6]!);
    i = putTime(rows, i) + 1;
    put(keys[7]!);
    i = putTime(rows, i) + 1;
    put(keys[8]!);
    i = putText(rows, i) + 1;
    put(last);
  }
  const bytes = buf.subarray(0, pos);
  buf = EMPTY; // the chunk is the caller's now
  return bytes;
}
