/**
 * The hand-written host-entry JSON (ui/host-json.ts) is JSON.stringify's text, byte for byte,
 * for any strings (quotes, backslashes, control characters, non-ASCII, astral characters).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HostEntryJson } from '../../src/store/hosts/index.js';
import { hostEntryElement, hostEntryLine } from '../../src/ui/host-json.js';
import { prettyElement } from '../../src/ui/stream-out.js';

const text = fc.string({ unit: 'binary', maxLength: 20 });
const iso = fc
  .date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
  .map((d) => d.toISOString());
const entry: fc.Arbitrary<HostEntryJson> = fc.record({
  id: text,
  ipAddress: text,
  hostname: text,
  aliases: fc.array(text, { maxLength: 3 }),
  comment: fc.option(text, { nil: null }),
  tags: fc.array(text, { maxLength: 3 }),
  createdAt: iso,
  updatedAt: iso,
  version: text,
});

describe('host entry JSON', () => {
  it('a line is JSON.stringify(entry)', () => {
    fc.assert(
      fc.property(entry, (e) => hostEntryLine(e) === JSON.stringify(e)),
      { numRuns: 500 },
    );
  });

  it('an element is the entry as JSON.stringify(list, null, 2) indents it', () => {
    fc.assert(
      fc.property(entry, (e) => hostEntryElement(e) === prettyElement(e)),
      { numRuns: 500 },
    );
  });

  it('the fixed cases: empty lists, a null comment, quotes and control characters', () => {
    const e: HostEntryJson = {
      id: 'h1',
      ipAddress: '::1',
      hostname: 'a"b\\c',
      aliases: [],
      comment: null,
      tags: ['\u0001\n\t', 'é😀'],
      createdAt: '2026-01-02T03:04:05.006Z',
      updatedAt: '2026-01-02T03:04:05.006Z',
      version: 'v',
    };
    expect(hostEntryLine(e)).toBe(JSON.stringify(e));
    expect(`[\n${hostEntryElement(e)}\n]`).toBe(JSON.stringify([e], null, 2));
  });
});
