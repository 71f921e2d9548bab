/**
 * Long reads a page at a time from one server-side cursor (postgres.js `.cursor(n)`): one
 * statement, one snapshot, at most two pages in memory, never the whole result.
 */
import type { PostgresType, ReservedSql as Reserved, Sql as PgSql } from 'postgres';

type Sql = PgSql<Record<string, PostgresType>>;
type ReservedSql = Reserved<Record<string, PostgresType>>;

/** Rows per page when a caller gives none: big enough that round trips do not count. */
export const CURSOR_PAGE_ROWS = 2000;

interface CursorQuery<Row> {
  cursor(rows: number): AsyncIterable<Row[]>;
}

/**
 * The query's rows in pages of `rows`, each mapped by `map` and by `mapError` on failure.
 * The next page is asked for as soon as one arrives, so the server reads it while the caller
 * writes this one (postgres.js sends the next Execute when its iterator's next() is called).
 */
export async function* cursorPages<Row, T>(
  query: () => CursorQuery<Row>,
  map: (row: Row) => T,
  mapError: (error: unknown) => unknown,
  rows = CURSOR_PAGE_ROWS,
): AsyncGenerator<T[]> {
  let iterator: AsyncIterator<Row[]>;
  let pending: Promise<IteratorResult<Row[]>>;
  try {
    iterator = query().cursor(rows)[Symbol.asyncIterator]();
    pending = iterator.next();
  } catch (error) {
    throw mapError(error);
  }
  let finished = false;
  try {
    for (;;) {
      let result: IteratorResult<Row[]>;
      try {
        result = await pending;
      } catch (error) {
        finished = true;
        throw mapError(error);
      }
      if (result.done) {
        finished = true;
        return;
      }
      pending = iterator.next();
      const page = new Array<T>(result.value.length);
      for (let i = 0; i < page.length; i++) page[i] = map(result.value[i]!);
      yield page;
    }
  } finally {
    if (!finished) {
      // The caller stopped early: let the page asked for arrive, then close the cursor (a
      // pending page never claimed would keep the connection busy until it is ended).
      const last = await pending.catch(() => ({ done: true }) as IteratorResult<Row[]>);
      if (!last.done) await iterator.return?.();
    }
  }
}

/**
 * A connection of `sql` reserved for one consistent read: a read-only REPEATABLE READ
 * transaction, so a count and a cursor read after it see the same rows. `close` ends it.
 */
export async function snapshotReader(sql: Sql): Promise<{ sql: ReservedSql; close(): Promise<void> }> {
  const reserved = await sql.reserve();
  try {
    await reserved`begin isolation level repeatable read read only`;
  } catch (error) {
    reserved.release();
    throw error;
  }
  return {
    sql: reserved,
    async close() {
      try {
        await reserved`commit`;
      } finally {
        reserved.release();
      }
    },
  };
}
