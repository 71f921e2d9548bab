/**
 * Long output written a page at a time, with backpressure and a turn of the event loop between
 * pages: no long synchronous call (a SIGTERM waits for none), never the whole text in memory.
 * Lists come as pages (arrays, or an async source such as a database cursor); each page is
 * one write, so a 100k-row list is ~50 writes, not 100k.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

const PAGE_ITEMS = 1000;

/** Pages of items: an in-memory array (cut into pages here) or an async source of pages. */
export type ItemPages<T> = readonly T[] | AsyncIterable<readonly T[]>;

/** Writes `text`, waiting for 'drain' when `stream` is full. */
async function write(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  if (!stream.write(text)) await new Promise((resolve) => stream.once('drain', resolve));
}

/** Writes each page, waiting for 'drain' when `stream` is full and yielding after each. */
export async function writePages(
  stream: NodeJS.WritableStream,
  pages: Iterable<string> | AsyncIterable<string>,
): Promise<void> {
  for await (const page of pages) {
    await write(stream, page);
    await nextTurn();
  }
}

async function* pagesOf<T>(items: ItemPages<T>): AsyncGenerator<readonly T[]> {
  if (!Array.isArray(items)) return yield* items as AsyncIterable<readonly T[]>;
  const list = items as readonly T[];
  for (let start = 0; start < list.length; start += PAGE_ITEMS) {
    yield list.slice(start, start + PAGE_ITEMS);
    await nextTurn();
  }
}

/** An item as an element of `JSON.stringify(items, null, 2)`, indented by two spaces. */
export function prettyElement(item: unknown): string {
  // As in JSON.stringify, an item with no JSON form (undefined, a function) is null.
  const text = JSON.stringify(item, null, 2) ?? 'null';
  return `  ${text.replace(/\n/g, '\n  ')}`;
}

/**
 * Writes the items as `JSON.stringify(items, null, 2)` and a newline would; `element` renders
 * one item as prettyElement does (or faster, for a fixed shape). Returns
 * how many items were written.
 */
export async function writeJsonArray<T>(
  stream: NodeJS.WritableStream,
  items: ItemPages<T>,
  element: (item: T) => string = prettyElement,
): Promise<number> {
  let count = 0;
  for await (const page of pagesOf(items)) {
    if (page.length === 0) continue;
    let text = count === 0 ? '[\n' : ',\n';
    text += element(page[0]!);
    for (let i = 1; i < page.length; i++) text += `,\n${element(page[i]!)}`;
    count += page.length;
    await write(stream, text);
  }
  await write(stream, count === 0 ? '[]\n' : '\n]\n');
  return count;
}

/**
 * Writes the items as NDJSON: one compact JSON object a line (`line` renders one, without the
 * newline; JSON.stringify by default), with the same field names as --json. Returns the count.
 */
export async function writeNdjson<T>(
  stream: NodeJS.WritableStream,
  items: ItemPages<T>,
  line: (item: T) => string = (item) => JSON.stringify(item) ?? 'null',
): Promise<number> {
  let count = 0;
  for await (const page of pagesOf(items)) {
    let text = '';
    for (let i = 0; i < page.length; i++) text += `${line(page[i]!)}\n`;
    count += page.length;
    if (text) await write(stream, text);
  }
  return count;
}

const OPEN = Buffer.from('[\n');

/**
 * Writes JSON rendered as bytes, a page a write: `render` makes a page's bytes, as
 * `element`s (each starting with `,\n`) that together are `JSON.stringify(items, null, 2)` and
 * a newline, or as NDJSON `line`s (ui/host-json-bytes.ts renders host entries so).
 */
export async function writeJsonText<T>(
  stream: NodeJS.WritableStream,
  pages: AsyncIterable<T>,
  render: (page: T) => Uint8Array,
  layout: 'element' | 'line',
): Promise<void> {
  let first = true;
  for await (const page of pages) {
    const bytes = render(page);
    if (bytes.length === 0) continue;
    // The first element's `,\n` becomes the array's `[\n`.
    await write(stream, first && layout === 'element' ? Buffer.concat([OPEN, bytes.subarray(2)]) : bytes);
    first = false;
  }
  if (layout === 'element') await write(stream, first ? '[]\n' : '\n]\n');
}
