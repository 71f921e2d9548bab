/**
 * Renderings of hosts entries and events, shared by `pgstore hosts` and `pgstore snapshot`.
 */
import type { EventEnvelope, HostEntry } from '../store/hosts/index.js';
import type { Output } from './output.js';

/** `2026-01-02 03:04:05` (UTC). */
export function when(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Cuts long text for a table cell. */
export function cell(text: string | null, max = 60): string {
  if (!text) return '';
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** An entry on one line as a hosts file has it: IP, names, then `# comment [tags]` (snapshot diff). */
export function entryLine(e: Pick<HostEntry, 'ipAddress' | 'hostname' | 'aliases' | 'comment' | 'tags'>): string {
  const note = [cell(e.comment), e.tags.length ? `[${e.tags.join(', ')}]` : ''].filter((part) => part !== '').join(' ');
  return `${e.ipAddress}\t${[e.hostname, ...e.aliases].join(' ')}${note ? `\t# ${note}` : ''}`;
}

/** The hosts table's heading. */
export const HOSTS_TABLE_HEAD = ['ID', 'IP', 'HOSTNAME', 'ALIASES', 'COMMENT', 'TAGS'];

type ListedEntry = Pick<HostEntry, 'id' | 'ipAddress' | 'hostname' | 'aliases' | 'comment' | 'tags'>;

/** An entry as the hosts table's cells. */
export function hostCells(e: ListedEntry): string[] {
  return [e.id, e.ipAddress, e.hostname, cell(e.aliases.join(' ')), cell(e.comment), cell(e.tags.join(', '))];
}

/** Entries as the ID, IP, HOSTNAME, ALIASES, COMMENT, TAGS table on stdout. */
export async function hostsTable(out: Output, entries: ListedEntry[]): Promise<void> {
  await out.table({ head: HOSTS_TABLE_HEAD, rows: entries.map(hostCells) });
}

/**
 * A list's table from pages that can be read again (one snapshot): a short list is read once
 * and drawn by cli-table3; a long one is read twice (to measure, then to draw), never held.
 */
export async function listedHostsTable(
  out: Output,
  count: number,
  pages: () => AsyncIterable<ListedEntry[]>,
): Promise<void> {
  await out.streamedTable({
    head: HOSTS_TABLE_HEAD,
    count,
    rows: async function* () {
      for await (const entries of pages()) yield entries.map(hostCells);
    },
  });
}

/** One entry as `field: value` lines. */
export function describeEntry(entry: HostEntry): string {
  return [
    `id:        ${entry.id}`,
    `ip:        ${entry.ipAddress}`,
    `hostname:  ${entry.hostname}`,
    `aliases:   ${entry.aliases.join(' ') || '-'}`,
    `comment:   ${entry.comment ?? '-'}`,
    `tags:      ${entry.tags.join(', ') || '-'}`,
    `created:   ${when(entry.createdAt)} UTC`,
    `updated:   ${when(entry.updatedAt)} UTC`,
    `version:   ${entry.version}`,
  ].join('\n');
}

/** What an event did, in a few words. */
export function describeEvent({ event }: EventEnvelope): string {
  const list = (items: string[] | undefined) => (items?.length ? items.join(', ') : '(none)');
  const text = (value: string | null | undefined) =>
    value === null || value === undefined ? '(none)' : `'${cell(value, 40)}'`;
  switch (event.type) {
    case 'HostCreated':
      return `${event.ipAddress} ${event.hostname}${event.aliases?.length ? ` (aliases ${list(event.aliases)})` : ''}${event.comment ? ` # ${cell(event.comment, 40)}` : ''}${event.tags.length ? ` [${list(event.tags)}]` : ''}`;
    case 'IpAddressChanged':
      return `ip ${event.oldIp} → ${event.newIp}`;
    case 'HostnameChanged':
      return `hostname ${event.oldHostname} → ${event.newHostname}`;
    case 'CommentUpdated':
      return `comment ${text(event.oldComment)} → ${text(event.newComment)}`;
    case 'TagsModified':
      return `tags ${list(event.oldTags)} → ${list(event.newTags)}`;
    case 'AliasesModified':
      return `aliases ${list(event.oldAliases)} → ${list(event.newAliases)}`;
    case 'HostDeleted':
      return `deleted ${event.ipAddress} ${event.hostname}${event.reason ? ` (${cell(event.reason, 40)})` : ''}`;
  }
}

/** The history table on stdout: VERSION, TIME, EVENT, BY, CHANGE. */
export async function historyTable(out: Output, events: EventEnvelope[]): Promise<void> {
  await out.table({
    head: ['VERSION', 'TIME (UTC)', 'EVENT', 'BY', 'CHANGE'],
    rows: events.map((e) => [e.eventVersion, when(e.createdAt), e.event.type, e.createdBy ?? '', describeEvent(e)]),
  });
}
