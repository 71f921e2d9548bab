/**
 * `pgstore hosts list`: live entries as a table, JSON, NDJSON, CSV or a hosts file. On the
 * primary every format streams (JSON from one COPY, the others from one snapshot read a page
 * at a time); with --replica the list is one query, routed as a whole.
 */
import { Command, Option } from 'commander';
import type { HostFormat, HostListing, ListHostsOptions } from '../core/hosts/index.js';
import type { HostEntry } from '../store/hosts/index.js';
import type { Output } from '../ui/output.js';
import { hostsTable, listedHostsTable } from '../ui/hosts-view.js';
import { plural } from '../util/format.js';
import { replicaOption } from './list-options.js';
import { action, type ActionIO, type CommandContext, examples } from './context.js';
import { collect, wholeNumber } from './parse.js';

const hostsCore = () => import('../core/hosts/index.js');
type HostsCore = Awaited<ReturnType<typeof hostsCore>>;

interface ListFlags {
  tag?: string[];
  search?: string;
  ip?: string;
  limit?: number;
  offset?: number;
  format: 'table' | 'json' | 'ndjson' | HostFormat;
  replica?: string | true;
}

type Listed =
  | { kind: 'json'; format: 'json' | 'ndjson'; rows: AsyncIterable<Buffer> }
  | { kind: 'streamed'; format: ListFlags['format']; listing: HostListing }
  | { kind: 'held'; format: ListFlags['format']; entries: HostEntry[]; total: number | undefined };

async function listHosts(hosts: HostsCore, io: ActionIO, flags: ListFlags): Promise<Listed> {
  const options: ListHostsOptions = {
    ...io.core(),
    tags: flags.tag ?? [],
    search: flags.search,
    ip: flags.ip,
    limit: flags.limit,
    offset: flags.offset,
  };
  const format = io.out.options.json ? 'json' : flags.format;
  if (flags.replica) {
    // A table page (--limit, --offset) says how many match in all, counted in the same statement.
    if (format === 'table' && (flags.limit !== undefined || flags.offset !== undefined))
      return { kind: 'held', format, ...(await hosts.listHostsPage({ ...options, replica: flags.replica })) };
    return {
      kind: 'held',
      format,
      entries: await hosts.listHosts({ ...options, replica: flags.replica }),
      total: undefined,
    };
  }
  if (format === 'json' || format === 'ndjson') return { kind: 'json', format, rows: hosts.listHostRows(options) };
  return { kind: 'streamed', format, listing: await hosts.openHostListing(options) };
}

async function printHosts(out: Output, listed: Listed, flags: ListFlags): Promise<void> {
  if (listed.kind === 'json') {
    const { hostJsonFromCopy } = await import('../ui/host-json-bytes.js');
    const layout = listed.format === 'json' ? 'element' : 'line';
    return out.jsonText(listed.rows, (rows) => hostJsonFromCopy(rows, layout), layout);
  }
  const listing = listed.kind === 'streamed' ? listed.listing : undefined;
  try {
    const { format } = listed;
    if (listed.kind === 'held' && format === 'json') return out.jsonArray(listed.entries);
    if (listed.kind === 'held' && format === 'ndjson') return out.ndjson(listed.entries);
    if (format === 'csv' || format === 'hosts') {
      const core = await hostsCore();
      // Awaited: the `finally` below closes the listing, which these pages read.
      return await out.rawPages(
        listing
          ? core.listingText(listing, format, new Date())
          : core.renderHostsPages(listed.kind === 'held' ? listed.entries : [], format, new Date()),
      );
    }
    const paged = flags.offset !== undefined || flags.limit !== undefined;
    const total = listing ? (paged ? listing.total : undefined) : listed.kind === 'held' ? listed.total : undefined;
    const count = listing ? listing.count : listed.kind === 'held' ? listed.entries.length : 0;
    const after = flags.offset ? ` after the first ${flags.offset}` : '';
    if (count === 0)
      return out.result(total ? `No host entries${after} (${plural(total, 'entry')} in all).` : 'No host entries.');
    if (listing) await listedHostsTable(out, count, () => listing.pages());
    else if (listed.kind === 'held') await hostsTable(out, listed.entries);
    out.result(
      total !== undefined && total > count
        ? `${count} of ${plural(total, 'entry')}${after && `,${after}`}`
        : plural(count, 'entry'),
    );
  } finally {
    await listing?.close();
  }
}

export function hostsListCommand(ctx: CommandContext): Command {
  const command = new Command('list')
    .description('list live entries, ordered by IP then hostname')
    .option('--tag <tag>', 'only entries with this tag (repeat: any of them)', collect)
    .option('--search <text>', 'only entries whose hostname contains this text')
    .option('--ip <text>', 'only entries whose IP address contains this text')
    .addOption(new Option('--limit <n>', 'at most this many entries').argParser(wholeNumber('--limit', 1)))
    .addOption(new Option('--offset <n>', 'skip this many entries first').argParser(wholeNumber('--offset')))
    .addOption(
      new Option(
        '--format <format>',
        'output format (--json is --format json; ndjson: one JSON object a line, streamed)',
      )
        .choices(['table', 'json', 'ndjson', 'csv', 'hosts'])
        .default('table'),
    )
    .addOption(replicaOption())
    .action(
      action(ctx, {
        load: hostsCore,
        call: listHosts,
        json: false, // --json is one of the formats
        text: (out, listed, [flags]) => printHosts(out, listed, flags),
      }),
    );
  return examples(command, [
    'pgstore hosts list',
    'pgstore hosts list --tag prod --tag web --search api',
    'pgstore hosts list --ip 192.168. --limit 20 --offset 40',
    'pgstore hosts list --format hosts > /etc/hosts.d/app',
    'pgstore hosts list --replica postgres://app@replica1/app',
  ]);
}
