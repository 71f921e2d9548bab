/**
 * `pgstore hosts list` in the formats for people and files (table, csv, hosts), streamed: one
 * read-only snapshot holds the count and every pass over the entries, each pass a cursor read
 * a page at a time, so a list of any length is printed without holding it in memory.
 */
import { snapshotReader } from '../../store/cursor.js';
import { createHostsStore, guardHosts, type HostEntryJson } from '../../store/hosts/index.js';
import { openHostsDb } from './db.js';
import { hostsFileHeader } from './file.js';
import { CSV_COLUMNS, type HostFormat, renderHostsLines } from './formats.js';
import type { ListHostsOptions } from './hosts.js';

export interface HostListing {
  /** Entries matching the filters in all (before --limit and --offset). */
  total: number;
  /** Entries this listing has (after --limit and --offset). */
  count: number;
  /** A pass over the listed entries in order, a page at a time; each call is a new pass on the same snapshot. */
  pages(): AsyncGenerator<HostEntryJson[]>;
  /** Ends the snapshot and the connection (safe to call twice). */
  close(): Promise<void>;
}

/** Opens a listing on the primary: the count now, the entries read when a pass asks. */
export async function openHostListing(options: ListHostsOptions): Promise<HostListing> {
  const { sql } = await openHostsDb(options);
  const filter = { tags: options.tags, hostnamePattern: options.search, ipPattern: options.ip };
  const page = { limit: options.limit, offset: options.offset };
  let reader: Awaited<ReturnType<typeof snapshotReader>> | undefined;
  let total: number;
  try {
    reader = await guardHosts(() => snapshotReader(sql));
    total = await createHostsStore(reader.sql).count(filter);
  } catch (error) {
    // The snapshot first: ending the pool waits (its 5 s) for a connection still reserved.
    await reader?.close().catch(() => undefined);
    await sql.end({ timeout: 5 }).catch(() => undefined);
    throw error;
  }
  const snapshot = reader;
  const offset = options.offset ?? 0;
  const count = Math.min(Math.max(0, total - offset), options.limit ?? Number.POSITIVE_INFINITY);
  let closed: Promise<void> | undefined;
  return {
    total,
    count,
    pages: () => createHostsStore(snapshot.sql).searchJsonPages(filter, page),
    close() {
      closed ??= (async () => {
        await snapshot.close().catch(() => undefined);
        await sql.end({ timeout: 5 }).catch(() => undefined);
      })();
      return closed;
    },
  };
}

/**
 * The listing as a hosts file, CSV or JSON lines, a page at a time (the cursor's order is the
 * hosts table's byte order, collation "C"); closes the listing when the pages end (early or not).
 */
export async function* listingText(listing: HostListing, format: HostFormat, now: Date): AsyncGenerator<string> {
  try {
    if (format === 'hosts') yield hostsFileHeader(listing.count, now);
    if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
    for await (const entries of listing.pages()) yield renderHostsLines(entries, format);
  } finally {
    await listing.close();
  }
}
