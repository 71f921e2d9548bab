/**
 * The fast COPY encoders of `hosts import`'s bulk path (store/copy.ts's copyJsonString,
 * copyJsonArray, copyTextArray; store/admin/new-hosts-load.ts's rows) against the plain
 * reference encoders (copyJson: JSON.stringify; copyValue/copyLine), for arbitrary strings:
 * quotes, backslashes, tabs, newlines, CR, other control characters, NUL, lone and paired
 * surrogates, and other Unicode. The rows are also decoded back (COPY text, then JSON) to
 * the values they were made from, so a fast path cannot corrupt data unnoticed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyJson, copyJsonArray, copyJsonString, copyLine, copyTextArray, copyValue } from '../../src/store/copy.js';
import { type NewHost, newHostChunks } from '../../src/store/admin/new-hosts-load.js';

/** Characters a fast path could get wrong, and some that need nothing. */
const tricky = fc.oneof(
  fc.constantFrom(
    '\\',
    '"',
    "'",
    '\t',
    '\n',
    '\r',
    '\0',
    '\b',
    '\f',
    '\x1f',
    '\x7f',
    ',',
    '{',
    '}',
    '[',
    ']',
    ' ',
    '#',
  ),
  fc.constantFrom(
    '\ud800',
    '\udfff',
    '\ud83d\ude00',
    '\u2028',
    '\u2029',
    '\ufeff',
    'é',
    '日本',
    '\u00a0',
    'N',
    'a.b-c',
  ),
  fc.string({ unit: 'binary', maxLength: 3 }),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
);
const text = fc.array(tricky, { maxLength: 12 }).map((parts) => parts.join(''));
const list = fc.array(text, { maxLength: 4 });
const runs = { numRuns: 1000 };

/** One COPY text field back to its value (null for \N). */
function decodeField(field: string): string | null {
  if (field === '\\N') return null;
  return field.replace(/\\(.)/gs, (_, c: string) =>
    c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c === 'b' ? '\b' : c === 'f' ? '\f' : c === 'v' ? '\v' : c,
  );
}

/** A text[] literal (as copyValue writes it: every element quoted) back to its elements. */
function decodeArray(literal: string): string[] {
  if (literal === '{}') return [];
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/gs;
  for (const m of literal.slice(1, -1).matchAll(re)) out.push(m[1]!.replace(/\\(.)/gs, '$1'));
  return out;
}

describe('the fast COPY encoders write what the reference encoders write', () => {
  it('copyJsonString(s) === copyJson(s)', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(copyJsonString(s)).toBe(copyJson(s));
      }),
      runs,
    );
  });

  it('copyJsonArray(list) === copyJson(list)', () => {
    fc.assert(
      fc.property(list, (values) => {
        expect(copyJsonArray(values)).toBe(copyJson(values));
      }),
      runs,
    );
  });

  it('copyTextArray(list) === copyValue(list)', () => {
    fc.assert(
      fc.property(list, (values) => {
        expect(copyTextArray(values)).toBe(copyValue(values));
      }),
      runs,
    );
  });

  it("the bulk import's rows equal copyLine of the same values, and decode back to them", () => {
    const host = fc.record({
      ipAddress: text,
      hostname: text,
      aliases: list,
      comment: fc.option(text, { nil: null }),
      tags: list,
    });
    const encoding = fc.record({
      createdAt: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
      recordedAt: text,
      createdBy: fc.option(text, { nil: null }),
      firstSeq: fc.integer({ min: 1, max: 2 ** 40 }),
      perChunk: fc.integer({ min: 1, max: 4 }),
    });
    fc.assert(
      fc.property(fc.array(host, { maxLength: 6 }), encoding, (hosts: NewHost[], e) => {
        let n = 0;
        const newId = () => `id${n++}\\`;
        const slices = Array.from({ length: Math.ceil(hosts.length / e.perChunk) }, (_, i) =>
          hosts.slice(i * e.perChunk, (i + 1) * e.perChunk),
        );
        const chunks = [...newHostChunks(slices, e.firstSeq, { ...e, newId })];
        const at = e.createdAt.toISOString();
        const events: string[] = [];
        const streams: string[] = [];
        const projection: string[] = [];
        hosts.forEach((h, i) => {
          const [id, eventId, version] = [`id${3 * i}\\`, `id${3 * i + 1}\\`, `id${3 * i + 2}\\`];
          const seq = e.firstSeq + i;
          const event = {
            type: 'HostCreated',
            ipAddress: h.ipAddress,
            hostname: h.hostname,
            aliases: h.aliases,
            comment: h.comment,
            tags: h.tags,
            createdAt: at,
          };
          events.push(
            copyLine([seq, eventId, id, 'HostCreated', version, null, event, e.createdAt, e.recordedAt, e.createdBy]),
          );
          streams.push(copyLine([id, version, seq, 1]));
          projection.push(
            copyLine([
              id,
              h.ipAddress,
              h.hostname,
              h.aliases,
              h.comment,
              h.tags,
              e.createdAt,
              e.createdAt,
              version,
              seq,
            ]),
          );
          // Decoded: the event's JSON gives the entry back, the projection row its columns.
          const eventFields = events.at(-1)!.slice(0, -1).split('\t');
          expect(JSON.parse(decodeField(eventFields[6]!)!)).toEqual(event);
          const row = projection.at(-1)!.slice(0, -1).split('\t').map(decodeField);
          expect([row[1], row[2], decodeArray(row[3]!), row[4], decodeArray(row[5]!)]).toEqual([
            h.ipAddress,
            h.hostname,
            h.aliases,
            h.comment,
            h.tags,
          ]);
        });
        expect(chunks.map((c) => c.events).join('')).toBe(events.join(''));
        expect(chunks.map((c) => c.streams).join('')).toBe(streams.join(''));
        expect(chunks.map((c) => c.projection).join('')).toBe(projection.join(''));
        expect(chunks.reduce((s, c) => s + c.eventCount, 0)).toBe(hosts.length);
        expect(chunks.reduce((s, c) => s + c.live, 0)).toBe(hosts.length);
        expect(chunks.every((c) => c.eventCount <= e.perChunk)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
