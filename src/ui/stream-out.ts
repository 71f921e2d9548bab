/**
 * Long output written a page at a time, with backpressure and a turn of the event loop between
 * pages: no long synchronous call (a SIGTERM waits for none), never the whole text in memory.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

const PAGE_ITEMS = 1000;

/** Writes each page, waiting for 'drain' when `stream` is full and yielding after each. */
export async function writePages(stream: NodeJS.WritableStream, pages: Iterable<string> | AsyncIterable<string>): Promise<void> {
  for await (const page of pages) {
    if (!stream.write(page)) await new Promise((resolve) => stream.once('drain', resolve));
    await nextTurn();
  }
}

/** Writes `items` as `JSON.stringify(items, null, 2)` and a newline would. */
export async function writeJsonArray(stream: NodeJS.WritableStream, items: readonly unknown[]): Promise<void> {
  if (items.length === 0) {
    stream.write('[]\n');
    return;
  }
  let page = '[\n';
  for (let i = 0; i < items.length; i++) {
    // As in JSON.stringify, an item with no JSON form (undefined, a function) is null.
    const text = JSON.stringify(items[i], null, 2) ?? 'null';
    page += `  ${text.replace(/\n/g, '\n  ')}${i < items.length - 1 ? ',\n' : '\n]\n'}`;
    if ((i + 1) % PAGE_ITEMS === 0 || i === items.length - 1) {
      if (!stream.write(page)) await new Promise((resolve) => stream.once('drain', resolve));
      page = '';
      await nextTurn();
    }
  }
}
