/**
 * A long table whose rows are read twice (measured, then drawn) is the same table as one drawn
 * from rows held in memory, and is written while its rows are still being read.
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeStreamedTable, writeTable } from '../../src/ui/table.js';

const HEAD = ['ID', 'IP', 'HOSTNAME', 'ALIASES', 'COMMENT', 'TAGS'];

async function written(write: (sink: PassThrough) => Promise<void>): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await write(sink);
  return Buffer.concat(chunks).toString('utf8');
}

/** `rows` as an async source of pages of `size`, read again on each call. */
function pagesOf<T>(rows: T[], size: number): () => AsyncGenerator<T[]> {
  return async function* () {
    for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
  };
}

describe('streamed tables', () => {
  it('draw the same text as a table held in memory, whatever the cells and the page size', async () => {
    const text = fc.oneof(fc.string({ maxLength: 14 }), fc.constantFrom('', '…', '中文', 'naïve', 'x'.repeat(40)));
    await fc.assert(
      fc.asyncProperty(
        // Past SMALL_TABLE_ROWS the held table is pgstore's own drawing too; below it, cli-table3's.
        fc.array(fc.array(text, { minLength: 6, maxLength: 6 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 25 }),
        fc.boolean(),
        async (rows, size, color) => {
          const held = await written((sink) => writeTable(sink, { head: HEAD, rows, color }));
          const streamed = await written((sink) =>
            writeStreamedTable(sink, { head: HEAD, rows: pagesOf(rows, size), color }),
          );
          expect(streamed).toBe(held);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('writes the first rows before the last page is read on the drawing pass', async () => {
    const rows = Array.from({ length: 5_000 }, (_, i) => [`id${i}`, `10.0.0.${i % 250}`, `h${i}.example`, '', '', '']);
    const sink = new PassThrough();
    let written = 0;
    sink.on('data', (chunk: Buffer) => (written += chunk.length));
    let passes = 0;
    let writtenWhenLastPageRead = -1;
    const source = () => {
      const pass = ++passes;
      return (async function* () {
        for (let i = 0; i < rows.length; i += 500) {
          if (pass === 2 && i + 500 >= rows.length) writtenWhenLastPageRead = written;
          yield rows.slice(i, i + 500);
        }
      })();
    };
    await writeStreamedTable(sink, { head: HEAD, rows: source, color: false });
    expect(passes).toBe(2);
    // Nine pages of ten were on their way out before the tenth was read.
    expect(writtenWhenLastPageRead).toBeGreaterThan(written * 0.8);
  });
});
