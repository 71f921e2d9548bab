/**
 * Tables for people. Small ones are cli-table3's (loaded on first use). cli-table3's layout is
 * quadratic in the rows (5k rows 2.5 s, 40k rows 2 min, a stack overflow near 150k) and holds
 * the whole table in memory, so past SMALL_TABLE_ROWS rows pgstore draws the same table itself:
 * column widths in one pass, then rows written in pages with backpressure, yielding to the
 * event loop between pages (a SIGTERM is handled at once), never the whole output in memory.
 * The drawing is cli-table3's, character for character (test/unit/table.test.ts compares).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

export interface TableOptions {
  head: string[];
  rows: Array<Array<string | number>>;
  color: boolean;
}

/** Above this many rows, tables are drawn here rather than by cli-table3. */
export const SMALL_TABLE_ROWS = 500;
/** Rows drawn between two turns of the event loop. */
const PAGE_ROWS = 500;

/** Renders rows as a table with a header (for tables that stay small: the whole text). */
export async function renderTable(options: TableOptions): Promise<string> {
  if (options.rows.length <= SMALL_TABLE_ROWS) return cliTable3(options);
  const pages: string[] = [];
  for await (const page of tablePages(options)) pages.push(page);
  return pages.join('').replace(/\n$/, '');
}

/**
 * Writes the table and a newline to `stream`, page by page: waits for 'drain' when the stream
 * is full, and yields to the event loop after every page.
 */
export async function writeTable(stream: NodeJS.WritableStream, options: TableOptions): Promise<void> {
  if (options.rows.length <= SMALL_TABLE_ROWS) {
    stream.write(`${await cliTable3(options)}\n`);
    return;
  }
  for await (const page of tablePages(options)) {
    if (!stream.write(page)) await new Promise((resolve) => stream.once('drain', resolve));
  }
}

async function cliTable3({ head, rows, color }: TableOptions): Promise<string> {
  const { default: Table } = await import('cli-table3');
  // cli-table3 paints through @colors/colors, which decides by itself whether colour is
  // supported (no TTY and CI set: no colour). pgstore has decided already (colorWanted: the
  // flags, NO_COLOR, FORCE_COLOR, the terminal), so a table painted when asked to is painted.
  if (color) await enableTableColours();
  const table = new Table({
    head,
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
    wordWrap: true,
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of rows) table.push(row.map(String));
  return table.toString();
}

/** Turns on the colour module cli-table3 itself loads (resolved from cli-table3, whose dependency it is). */
async function enableTableColours(): Promise<void> {
  const { createRequire } = await import('node:module');
  const fromTable = createRequire(createRequire(import.meta.url).resolve('cli-table3'));
  (fromTable('@colors/colors/safe') as { enable(): void }).enable();
}

/** Counts the work of the linear drawing (cells measured and drawn), for the tests. */
export const tableWork = { cells: 0 };

type Row = Array<string | number>;

/** `rows` in slices of PAGE_ROWS. */
function* slices(rows: Row[]): Generator<Row[]> {
  for (let start = 0; start < rows.length; start += PAGE_ROWS) yield rows.slice(start, start + PAGE_ROWS);
}

/** The table as pages of text, each ending in a newline; the event loop gets a turn between them. */
export async function* tablePages({ head, rows, color }: TableOptions): AsyncGenerator<string> {
  const widths = await tableWidths(head, slices(rows));
  yield* drawTable(head, widths, slices(rows), color);
}

/**
 * A table whose rows are read twice, never held: `rows()` is called once to measure the
 * columns and once to draw them, and must give the same rows each time (one snapshot).
 * Given a `count` of at most SMALL_TABLE_ROWS, the rows are read once and drawn as writeTable does.
 */
export async function writeStreamedTable(
  stream: NodeJS.WritableStream,
  { head, rows, color, count }: { head: string[]; rows: () => AsyncIterable<Row[]>; color: boolean; count?: number },
): Promise<void> {
  if (count !== undefined && count <= SMALL_TABLE_ROWS) {
    const held: Row[] = [];
    for await (const page of rows()) held.push(...page);
    return writeTable(stream, { head, rows: held, color });
  }
  const widths = await tableWidths(head, rows());
  for await (const page of drawTable(head, widths, rows(), color)) {
    if (!stream.write(page)) await new Promise((resolve) => stream.once('drain', resolve));
  }
}

/** The columns' widths: the widest of the heading and every cell, in one pass over the pages. */
async function tableWidths(head: string[], pages: Iterable<Row[]> | AsyncIterable<Row[]>): Promise<number[]> {
  const width = await widthOf();
  const columns = head.length;
  const widths = head.map((h) => width(h));
  for await (const page of pages) {
    for (const row of page) {
      for (let c = 0; c < columns; c++) {
        const w = width(String(row[c] ?? ''));
        if (w > widths[c]!) widths[c] = w;
      }
      tableWork.cells += columns;
    }
    await nextTurn();
  }
  return widths;
}

/** The rows of `pages` drawn in columns of `widths`, a page of text per page of rows. */
async function* drawTable(
  head: string[],
  widths: number[],
  pages: Iterable<Row[]> | AsyncIterable<Row[]>,
  color: boolean,
): AsyncGenerator<string> {
  const width = await widthOf();
  const paint = (code: number) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[39m` : text);
  const grey = paint(90);
  const cyan = paint(36);
  const columns = head.length;
  // cli-table3 pads each cell with one space either side and colours each border piece apart.
  const rule = (left: string, middle: string, right: string) =>
    `${widths.map((w, c) => grey(`${c === 0 ? left : middle}${'─'.repeat(w + 2)}${c === columns - 1 ? right : ''}`)).join('')}\n`;
  const line = (cells: string[], style: (text: string) => string) => {
    const parts = cells.map((text) => text.split('\n'));
    const height = Math.max(1, ...parts.map((p) => p.length));
    let out = '';
    for (let l = 0; l < height; l++) {
      out += grey('│');
      for (let c = 0; c < columns; c++) {
        const text = parts[c]?.[l] ?? '';
        out += `${style(` ${text}${' '.repeat(Math.max(0, widths[c]! - width(text)))} `)}${grey('│')}`;
      }
      out += '\n';
    }
    return out;
  };
  let page = rule('┌', '┬', '┐') + line(head, cyan);
  for await (const rows of pages) {
    for (const row of rows) {
      page += line(
        Array.from({ length: columns }, (_, c) => String(row[c] ?? '')),
        (text) => text,
      );
      tableWork.cells += columns;
    }
    yield page;
    page = '';
    await nextTurn();
  }
  yield page + rule('└', '┴', '┘');
}

let measure: ((text: string) => number) | undefined;

/**
 * cli-table3's own measure (colour codes left out, the widest line, East Asian wide characters
 * counting two), with a fast path for plain ASCII, which most cells are.
 */
async function widthOf(): Promise<(text: string) => number> {
  if (!measure) {
    // cli-table3 has no "exports" map: its utils are reachable, and measuring with them keeps
    // the two drawings the same.
    const { default: utils } = (await import('cli-table3/src/utils.js' as string)) as {
      default: { strlen(text: string): number };
    };
    measure = (text) => (/^[\x20-\x7e]*$/.test(text) ? text.length : utils.strlen(text));
  }
  return measure;
}
