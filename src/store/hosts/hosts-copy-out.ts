/**
 * Live host entries streamed as COPY ... TO STDOUT text, for `hosts list --json` and
 * `--format ndjson` (ui/host-json-bytes.ts turns the rows into JSON bytes). COPY hands the
 * rows over as bytes: the driver makes no row objects and decodes no strings, which was most of
 * a 100k-entry list's time (issue 15 §1; a raw cursor still cost ~3× COPY's client time).
 *
 * The rows, in COPY's text format (columns split by tab, rows ended by a newline, `\N` for
 * null, backslash escapes: `\\`, `\b \f \n \r \t \v`; other bytes as they are, UTF-8):
 *   id, ip_address, hostname, aliases, comment, tags, created_at, updated_at, version
 * aliases and tags as the server's compact JSON (array_to_json: `["a","b"]`), the times in
 * UTC as `2026-01-02 03:04:05.123456` (DateStyle ISO, set for the transaction; the fraction's
 * digits as many as needed, none when zero). Order as search(): IP address, then hostname.
 *
 * COPY takes no bind parameters, so the filters travel as a setting of the transaction
 * (set_config(…, true)) that the statement reads: no value is ever spliced into SQL text.
 */
import type { PostgresType, Sql } from 'postgres';
import { guardHosts, mapHostsError } from './errors.js';
import type { HostSearch, Page } from './types.js';
import { likeSubstring } from './hosts.js';
import { pageOf } from '../paging.js';

const SETTING = 'pgstore.hosts_list';
const FILTER = `current_setting('${SETTING}')::jsonb`;

/** The COPY statement for the filters given (their values are read from the setting). */
function copyStatement(filter: { ip: string | null; hostname: string | null; tags: string[] | null }): string {
  const where = [
    filter.ip === null ? null : `h.ip_address like (${FILTER} ->> 'ip')`,
    filter.hostname === null ? null : `h.hostname like (${FILTER} ->> 'hostname')`,
    filter.tags === null ? null : `h.tags && array(select jsonb_array_elements_text(${FILTER} -> 'tags'))`,
  ].filter((c) => c !== null);
  return `copy (
    select h.id, h.ip_address, h.hostname, array_to_json(h.aliases), h.comment, array_to_json(h.tags),
           h.created_at at time zone 'UTC', h.updated_at at time zone 'UTC', h.version
    from hosts.hosts h
    ${where.length ? `where ${where.join(' and ')}` : ''}
    order by h.ip_address, h.hostname
    limit (${FILTER} ->> 'limit')::bigint offset (${FILTER} ->> 'offset')::bigint
  ) to stdout`;
}

/**
 * The entries matching `filter` (as search() reads them) as COPY text, in chunks of whole rows,
 * read in one read-only transaction on a connection of `sql` reserved for it. Memory stays
 * bounded: while the caller does not ask for the next chunk, the driver stops reading the
 * socket.
 *
 * The caller ends the pool afterwards, and nothing else may use that connection: postgres.js
 * 3.4.9 can leave its socket paused after a COPY ... TO STDOUT (the last CopyData fills the
 * stream, CopyDone arrives in the same chunk, and nobody resumes the socket; the next query on
 * the connection hangs: https://github.com/porsager/postgres/issues/499, fix proposed in
 * https://github.com/porsager/postgres/pull/1016). So the transaction is not committed (it
 * only read) and the connection is not given back: ending the pool closes it.
 */
export async function* copyHostRows(
  sql: Sql<Record<string, PostgresType>>,
  filter: HostSearch = {},
  page: Page = {},
): AsyncGenerator<Buffer> {
  const { limit, offset } = pageOf(page);
  const values = {
    ip: likeSubstring(filter.ipPattern),
    hostname: likeSubstring(filter.hostnamePattern),
    tags: filter.tags && filter.tags.length > 0 ? filter.tags : null,
  };
  const stream = await guardHosts(async () => {
    const reserved = await sql.reserve();
    await reserved`begin read only`;
    await reserved`select set_config(${SETTING}, ${JSON.stringify({ ...values, limit, offset })}, true),
      set_config('DateStyle', 'ISO', true)`;
    return reserved.unsafe(copyStatement(values)).readable();
  });
  let carry: Buffer | null = null;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      const end = data.lastIndexOf(0x0a) + 1;
      carry = end < data.length ? data.subarray(end) : null;
      if (end > 0) yield data.subarray(0, end);
    }
  } catch (error) {
    throw mapHostsError(error);
  }
}
