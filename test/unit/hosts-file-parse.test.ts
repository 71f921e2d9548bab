/**
 * parseHostsFile's one-pass reading against the plain reading it replaced (split the text
 * into lines, each line's fields with a regular expression), on arbitrary text made of what
 * a hosts file can hold (separators, #, brackets, CR, BOM, NUL, Unicode spaces), and the
 * real third-party file. And a NUL anywhere in an entry is refused by the validation, as before.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostsFileSlices, parseComment, parseHostsFile, type ParsedFile } from '../../src/core/hosts/file.js';
import { validateHost } from '../../src/core/hosts/validation.js';

/** The split-based reading, as it shipped before the one-pass one. */
function referenceParse(text: string): ParsedFile {
  const records: ParsedFile['records'] = [];
  const errors: ParsedFile['errors'] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const hash = line.indexOf('#');
    const fields = (hash >= 0 ? line.slice(0, hash) : line).trim().split(/[ \t]+/);
    const [ipAddress, hostname, ...aliases] = fields;
    if (!hostname) {
      errors.push({ line: i + 1, field: 'hostname', message: `hostname is missing after '${ipAddress}'` });
      continue;
    }
    const { comment, tags } = hash >= 0 ? parseComment(line.slice(hash + 1)) : { comment: null, tags: [] };
    records.push({ line: i + 1, ipAddress: ipAddress!, hostname, aliases, comment, tags });
  }
  return { records, errors };
}

const piece = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('10.0.0.1', '::1', 'host.lan', 'a-b.example', 'x', 'tag1', 'é', '😀') },
  {
    weight: 6,
    arbitrary: fc.constantFrom(' ', '\t', '  ', '\n', '\r\n', '\r', '#', '# ', '[', ']', ',', ', ', '\ufeff'),
  },
  { weight: 2, arbitrary: fc.constantFrom('\0', '\u00a0', '\u2028', '\u3000', '\v', '\f', '"', '\\') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
);
const hostsText = fc.array(piece, { maxLength: 60 }).map((parts) => parts.join(''));

describe('parseHostsFile', () => {
  it('reads arbitrary text exactly as the split-based reading did', () => {
    fc.assert(
      fc.property(hostsText, (text) => {
        expect(parseHostsFile(text)).toEqual(referenceParse(text));
        expect(parseHostsFile(`\ufeff${text}`)).toEqual(referenceParse(`\ufeff${text}`));
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same records and errors a slice at a time, in order', () => {
    fc.assert(
      fc.property(hostsText, fc.integer({ min: 1, max: 5 }), (text, size) => {
        const slices = [...hostsFileSlices(text, size)];
        expect({
          records: slices.flatMap((s) => s.records),
          errors: slices.flatMap((s) => s.errors),
        }).toEqual(referenceParse(text));
        expect(slices.every((s) => s.records.length + s.errors.length > 0)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads the real hosts file as it did', () => {
    const text = readFileSync(new URL('../fixtures/hosts/urlhaus.hosts', import.meta.url), 'utf8');
    const parsed = parseHostsFile(text);
    expect(parsed.records).toHaveLength(1567);
    expect(parsed).toEqual(referenceParse(text));
    expect(parseHostsFile(text.replaceAll('\n', '\r\n'))).toEqual(parsed);
  });

  it('a NUL in any field of an entry makes it invalid', () => {
    fc.assert(
      fc.property(hostsText, fc.nat(), (text, at) => {
        const withNul = `${text.slice(0, at % (text.length + 1))}\0${text.slice(at % (text.length + 1))}`;
        for (const record of parseHostsFile(withNul).records) {
          const { line: _line, ...entry } = record;
          if (JSON.stringify(entry).includes('\\u0000')) expect(validateHost(entry)).not.toEqual([]);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
