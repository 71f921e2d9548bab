/**
 * Large tables are drawn in linear time, page by page, exactly as cli-table3 draws small ones;
 * large JSON arrays are written in pages, exactly as JSON.stringify(…, null, 2) writes them.
 */
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeJsonArray } from '../../src/ui/stream-out.js';
import { renderTable, SMALL_TABLE_ROWS, tablePages, tableWork, writeTable } from '../../src/ui/table.js';

async function drawn(options: Parameters<typeof tablePages>[0]): Promise<string> {
  let text = '';
  for await (const page of tablePages(options)) text += page;
  return text;
}

const hostRow = (i: number) => [
  `01JABCDEF0123456789ABC${String(i).padStart(4, '0')}`,
  `10.0.${i % 256}.${i % 7}`,
  `web-${i}.example.com`,
  i % 3 ? 'a b' : '',
  'comment…',
  'prod, web',
];
const HEAD = ['ID', 'IP', 'HOSTNAME', 'ALIASES', 'COMMENT', 'TAGS'];

describe('tables', () => {
  it('draws what cli-table3 draws, character for character, with and without colour', async () => {
    const text = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('', '…', '中文', 'naïve', 'a\nbc', 'x'.repeat(30)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.array(text, { minLength: 5, maxLength: 5 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        async (columns, rows, color) => {
          const options = {
            head: ['ID', 'NAME', 'X', 'LONGER HEAD', 'E'].slice(0, columns),
            rows: rows.map((r) => r.slice(0, columns)),
            color,
          };
          expect(`${await drawn(options)}`).toBe(`${await renderTable(options)}\n`);
        },
      ),
      // cli-table3's own drawing (the reference) costs ~7 ms a table: 100 runs keep this under a second.
      { numRuns: 100 },
    );
  });

  it('is linear: four times the rows is about four times the work, and 25k rows are written whole', async () => {
    const work = async (n: number) => {
      tableWork.cells = 0;
      await drawn({ head: HEAD, rows: Array.from({ length: n }, (_, i) => hostRow(i)), color: false });
      return tableWork.cells;
    };
    // Cells drawn, not seconds: the count is exact at any size, so small sizes tell as much.
    const small = await work(2_500);
    const large = await work(10_000);
    expect(large / small).toBeLessThan(5);
    const sink = new PassThrough();
    let bytes = 0;
    sink.on('data', (chunk: Buffer) => (bytes += chunk.length));
    // 25k rows, not 100k: the cell count above proves the linearity; 100k rows cost ~1.4 s of CPU
    // here for nothing more (their speed is measured by `npm run bench`, README "Benchmarks").
    await writeTable(sink, { head: HEAD, rows: Array.from({ length: 25_000 }, (_, i) => hostRow(i)), color: false });
    expect(bytes).toBeGreaterThan(25_000 * 80);
  }, 60_000);

  it('gives the event loop a turn between pages: a timer fires while a large table is drawn', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => hostRow(i));
    let pagesBeforeTimer = -1;
    let pages = 0;
    setTimeout(() => (pagesBeforeTimer = pages), 0);
    for await (const _ of tablePages({ head: HEAD, rows, color: false })) pages++;
    expect(pagesBeforeTimer).toBeGreaterThanOrEqual(0);
    expect(pagesBeforeTimer).toBeLessThan(pages);
  });

  it('a small table is still one cli-table3 drawing', async () => {
    const rows = Array.from({ length: SMALL_TABLE_ROWS }, (_, i) => hostRow(i));
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await writeTable(sink, { head: HEAD, rows, color: false });
    expect(text).toBe(`${await renderTable({ head: HEAD, rows, color: false })}\n`);
    expect(text).toBe(await drawn({ head: HEAD, rows, color: false }));
  });
});

describe('JSON arrays in pages', () => {
  it('writes what JSON.stringify(items, null, 2) writes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue(), { maxLength: 2500 }), async (items) => {
        const sink = new PassThrough();
        let text = '';
        sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
        await writeJsonArray(sink, items);
        expect(text).toBe(`${JSON.stringify(items, null, 2)}\n`);
      }),
      { numRuns: 30 },
    );
    const dated = [{ at: new Date(0), n: undefined, f: () => 1 }, undefined];
    const sink = new PassThrough();
    let text = '';
    sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await writeJsonArray(sink, dated);
    expect(text).toBe(`${JSON.stringify(dated, null, 2)}\n`);
  });
});
