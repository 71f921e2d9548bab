/**
 * Reads of live host entries, from the hosts.hosts projection (never a scan over the event
 * log). Order everywhere: IP address, then hostname, in byte order.
 */
import { NotFoundError, ValidationError } from '../../errors.js';
import { guardHosts, mapHostsError } from './errors.js';
import type { HostEntry, HostEntryJson, HostSearch, Page } from './types.js';
import { cursorPages } from '../cursor.js';
import { pageOf } from '../paging.js';
import type { Queryable } from '../queryable.js';

interface HostRow {
  id: string;
  ip_address: string;
  hostname: string;
  aliases: string[] | string;
  comment: string | null;
  tags: string[] | string;
  created_at: Date;
  updated_at: Date;
  version: string;
}

/** The host-entry reads on `sql` (a pool or a transaction). */
export function createHostsStore(sql: Queryable) {
  // Arrays travel as JSON: parsed the same whether or not the pool fetched array types.
  const columns = sql`h.id, h.ip_address, h.hostname, array_to_json(h.aliases) as aliases, h.comment,
    array_to_json(h.tags) as tags, h.created_at, h.updated_at, h.version`;

  // The same columns with the times as toISOString's text (UTC, milliseconds cut, not rounded,
  // as the driver's Date has them), made by the server: see HostEntryJson.
  const jsonColumns = sql`h.id, h.ip_address, h.hostname, array_to_json(h.aliases) as aliases, h.comment,
    array_to_json(h.tags) as tags, to_char(h.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
    to_char(h.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at, h.version`;

  /** search()'s condition on `h`: filters (null when not given). A new fragment each call. */
  function matching(filter: HostSearch) {
    const ip = likeSubstring(filter.ipPattern);
    const hostname = likeSubstring(filter.hostnamePattern);
    const tags = filter.tags && filter.tags.length > 0 ? JSON.stringify(filter.tags) : null;
    return sql`(${ip}::text is null or h.ip_address like ${ip}::text)
        and (${hostname}::text is null or h.hostname like ${hostname}::text)
        and (${tags}::text is null or h.tags && array(select jsonb_array_elements_text(${tags}::text::jsonb)))`;
  }

  /** The rows of search(): filters, order, limit and offset. */
  function searchQuery<R extends object = HostRow>(filter: HostSearch, page: Page, select = columns) {
    const { limit, offset } = pageOf(page);
    return sql<R[]>`
      select ${select} from hosts.hosts h
      where ${matching(filter)}
      order by h.ip_address, h.hostname
      limit ${limit} offset ${offset}`;
  }

  return {
    /** Every live entry. */
    async listAll(): Promise<HostEntry[]> {
      const rows = await guardHosts(
        () => sql<HostRow[]>`select ${columns} from hosts.hosts h order by h.ip_address, h.hostname`,
      );
      return rows.map(toEntry);
    },

    /** A live entry by id; NotFoundError when unknown or deleted. */
    async getById(id: string): Promise<HostEntry> {
      const [row] = await guardHosts(() => sql<HostRow[]>`select ${columns} from hosts.hosts h where h.id = ${id}`);
      if (!row)
        throw new NotFoundError('host', id, {
          hint: 'List hosts with `pgstore hosts list`; a deleted host keeps only its history.',
        });
      return toEntry(row);
    },

    /** The live entry with this IP address and hostname, or null. */
    async findByIpAndHostname(ipAddress: string, hostname: string): Promise<HostEntry | null> {
      const [row] = await guardHosts(
        () =>
          sql<
            HostRow[]
          >`select ${columns} from hosts.hosts h where h.ip_address = ${ipAddress} and h.hostname = ${hostname}`,
      );
      return row ? toEntry(row) : null;
    },

    /** The live entries among these (ip, hostname) pairs, keyed by `${ip} ${hostname}`. */
    async findByPairs(pairs: Array<[string, string]>): Promise<Map<string, HostEntry>> {
      const found = new Map<string, HostEntry>();
      if (pairs.length === 0) return found;
      const rows = await guardHosts(
        () => sql<HostRow[]>`
          select ${columns}
          from jsonb_to_recordset(${JSON.stringify(pairs.map(([ip, hostname]) => ({ ip, hostname })))}::text::jsonb) as p(ip text, hostname text)
          join hosts.hosts h on h.ip_address = p.ip collate "C" and h.hostname = p.hostname collate "C"`,
      );
      for (const row of rows) found.set(`${row.ip_address} ${row.hostname}`, toEntry(row));
      return found;
    },

    /** The live entries as of `at` (by the events' own createdAt), folded from the log. */
    async getAtTime(at: Date): Promise<HostEntry[]> {
      if (!(at instanceof Date) || Number.isNaN(at.getTime()))
        throw new ValidationError('getAtTime needs a valid Date', { field: 'at' });
      const rows = await guardHosts(
        () =>
          sql<
            HostRow[]
          >`select ${columns} from hosts.fold_at(${at.toISOString()}::timestamptz) h order by h.ip_address, h.hostname`,
      );
      return rows.map(toEntry);
    },

    /**
     * Entries matching every given filter: IP and hostname substrings (`%` and `_` match
     * themselves), and any of `tags` exactly. An empty filter returns everything.
     */
    async search(filter: HostSearch = {}, page: Page = {}): Promise<HostEntry[]> {
      const query = searchQuery(filter, page);
      const rows = await guardHosts(() => query);
      return rows.map(toEntry);
    },

    /**
     * search()'s page and how many entries match in all (`3 of 147000`), in one statement:
     * one round trip, one snapshot. An offset past the end gives no entries and the total.
     */
    async searchWithTotal(filter: HostSearch = {}, page: Page = {}): Promise<{ entries: HostEntry[]; total: number }> {
      const { limit, offset } = pageOf(page);
      const rows = await guardHosts(
        () => sql<Array<HostRow & { total: number }>>`
          select t.total, p.* from (select count(*)::int as total from hosts.hosts h where ${matching(filter)}) t
          left join lateral (
            select ${columns} from hosts.hosts h where ${matching(filter)}
            order by h.ip_address, h.hostname limit ${limit} offset ${offset}
          ) p on true
          order by p.ip_address, p.hostname`,
      );
      return { entries: rows.filter((row) => row.id !== null).map(toEntry), total: rows[0]?.total ?? 0 };
    },

    /**
     * search()'s entries, a page of `pageRows` at a time from one cursor (one snapshot): for
     * lists too long to hold (100k entries and more). Stop early by leaving the loop.
     */
    searchPages(filter: HostSearch = {}, page: Page = {}, pageRows?: number): AsyncGenerator<HostEntry[]> {
      return cursorPages(
        () => searchQuery(filter, page),
        toEntry,
        (error) => mapHostsError(error),
        pageRows,
      );
    },

    /** searchPages() in JSON's shape (HostEntryJson): what `--json` writes, with no Date made. */
    searchJsonPages(filter: HostSearch = {}, page: Page = {}, pageRows?: number): AsyncGenerator<HostEntryJson[]> {
      return cursorPages(
        () => searchQuery<HostJsonRow>(filter, page, jsonColumns),
        toEntryJson,
        (error) => mapHostsError(error),
        pageRows,
      );
    },

    /**
     * Defers the one-live-(ip, hostname) check to COMMIT for the rest of this transaction, so
     * entries can swap names in steps (a rollback to a snapshot). Only inside a transaction.
     */
    async deferLiveUniqueness(): Promise<void> {
      await guardHosts(() => sql`set constraints hosts.hosts_live_ip_hostname_key deferred`);
    },

    /** How many live entries there are (matching `filter` when given). */
    async count(filter?: HostSearch): Promise<number> {
      const [row] = await guardHosts(() =>
        filter
          ? sql<{ n: number }[]>`select count(*)::int as n from hosts.hosts h where ${matching(filter)}`
          : sql<{ n: number }[]>`select count(*)::int as n from hosts.hosts`,
      );
      return row?.n ?? 0;
    },
  };
}

export type HostsStore = ReturnType<typeof createHostsStore>;

/** '%' + the text with \, % and _ escaped + '%'; null for no filter. */
export function likeSubstring(text: string | undefined): string | null {
  if (text === undefined || text === null || text === '') return null;
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function jsonArray(value: string[] | string | null): string[] {
  if (value === null) return [];
  return typeof value === 'string' ? (JSON.parse(value) as string[]) : value;
}

interface HostJsonRow extends Omit<HostRow, 'created_at' | 'updated_at'> {
  created_at: string;
  updated_at: string;
}

/** A row as an entry: timestamps as Dates (HostRow) or as the server's text (HostJsonRow, for streamed JSON). */
function entryOf(row: HostRow | HostJsonRow): HostEntry | HostEntryJson {
  return {
    id: row.id,
    ipAddress: row.ip_address,
    hostname: row.hostname,
    aliases: jsonArray(row.aliases),
    comment: row.comment,
    tags: jsonArray(row.tags),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  } as HostEntry | HostEntryJson;
}

const toEntry = (row: HostRow) => entryOf(row) as HostEntry;
const toEntryJson = (row: HostJsonRow) => entryOf(row) as HostEntryJson;
