/**
 * Import and export formats besides the hosts file (pure): JSON Lines (one HostEntry per
 * line) and CSV (`ip_address,hostname,aliases,comment,tags`; aliases and tags separated by
 * spaces, RFC 4180 quoting).
 */
import type { HostEntry } from '../../store/hosts/index.js';
import type { FieldProblem, HostInput } from './validation.js';
import {
  compareEntries,
  type HostRecord,
  hostsFileHeader,
  hostsFileSlices,
  type ParsedFile,
  parseHostsFile,
  renderHostsLine,
} from './file.js';

export const HOST_FORMATS = ['hosts', 'jsonl', 'csv'] as const;
export type HostFormat = (typeof HOST_FORMATS)[number];

export const CSV_COLUMNS = ['ip_address', 'hostname', 'aliases', 'comment', 'tags'] as const;
const COLUMN_NAMES: Record<string, (typeof CSV_COLUMNS)[number]> = {
  ip: 'ip_address',
  ip_address: 'ip_address',
  ipaddress: 'ip_address',
  hostname: 'hostname',
  aliases: 'aliases',
  comment: 'comment',
  tags: 'tags',
};

/** Reads entries in `format`. */
export function parseHosts(text: string, format: HostFormat): ParsedFile {
  switch (format) {
    case 'hosts':
      return parseHostsFile(text);
    case 'jsonl':
      return parseJsonl(text);
    case 'csv':
      return parseCsv(text);
  }
}

/** parseHosts's result in slices, in order (hosts files a few thousand lines at a time; the other formats at once). */
export function* parseHostsSlices(text: string, format: HostFormat): Generator<ParsedFile> {
  if (format === 'hosts') yield* hostsFileSlices(text);
  else yield parseHosts(text, format);
}

/** Writes entries in `format` (sorted by IP, then hostname). */
export function renderHosts(entries: HostEntry[], format: HostFormat, now: Date): string {
  return [...renderHostsPages(entries, format, now)].join('');
}

/**
 * renderHosts's text in pages of `pageSize` entries, so that a long list is written a page at a
 * time (ui/stream-out.ts) rather than built in one long synchronous call.
 */
export function* renderHostsPages(
  entries: HostEntry[],
  format: HostFormat,
  now: Date,
  pageSize = 2000,
): Generator<string> {
  const sorted = [...entries].sort(compareEntries);
  if (format === 'hosts') yield hostsFileHeader(sorted.length, now);
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  for (let start = 0; start < sorted.length; start += pageSize)
    yield renderHostsLines(sorted.slice(start, start + pageSize), format);
}

/** Entries (in order already) as lines of `format`, with no header. */
export function renderHostsLines(
  entries: ReadonlyArray<HostInput & Partial<Pick<HostEntry, 'id'>>>,
  format: HostFormat,
): string {
  let page = '';
  if (format === 'hosts') for (const e of entries) page += `${renderHostsLine(e)}\n`;
  else if (format === 'jsonl') for (const e of entries) page += `${JSON.stringify(e)}\n`;
  else
    for (const e of entries)
      page += `${[e.ipAddress, e.hostname, e.aliases.join(' '), e.comment ?? '', e.tags.join(' ')].map(csvField).join(',')}\r\n`;
  return page;
}

function parseJsonl(text: string): ParsedFile {
  const records: HostRecord[] = [];
  const errors: FieldProblem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      errors.push({ line, field: 'json', message: `not valid JSON: ${(error as Error).message}` });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      errors.push({ line, field: 'json', message: 'each line must be a JSON object' });
      return;
    }
    const o = value as Record<string, unknown>;
    const problem = (field: string, message: string) => errors.push({ line, field, message });
    const ip = o.ipAddress ?? o.ip_address ?? o.ip;
    const strings = (field: string, v: unknown): string[] | null => {
      if (v === undefined || v === null) return [];
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      problem(field, `${field} must be an array of strings`);
      return null;
    };
    if (typeof ip !== 'string') return void problem('ip', 'ipAddress (a string) is required');
    if (typeof o.hostname !== 'string') return void problem('hostname', 'hostname (a string) is required');
    if (o.comment !== undefined && o.comment !== null && typeof o.comment !== 'string')
      return void problem('comment', 'comment must be a string or null');
    const aliases = strings('aliases', o.aliases);
    const tags = strings('tags', o.tags);
    if (!aliases || !tags) return;
    records.push({
      line,
      ipAddress: ip,
      hostname: o.hostname,
      aliases,
      comment: (o.comment as string | null | undefined) || null,
      tags,
    });
  });
  return { records, errors };
}

function parseCsv(text: string): ParsedFile {
  const records: HostRecord[] = [];
  const errors: FieldProblem[] = [];
  const rows = csvRows(text.replace(/^\uFEFF/, ''), errors);
  let columns: Array<(typeof CSV_COLUMNS)[number] | undefined> = [...CSV_COLUMNS];
  rows.forEach(({ line, fields }, index) => {
    if (fields.length === 1 && fields[0]!.trim() === '') return;
    if (index === 0 && fields.some((f) => f.trim().toLowerCase() === 'hostname')) {
      columns = fields.map(
        (f) =>
          COLUMN_NAMES[
            f
              .trim()
              .toLowerCase()
              .replace(/[^a-z_]/g, '')
          ],
      );
      return;
    }
    const get = (name: (typeof CSV_COLUMNS)[number]) => {
      const i = columns.indexOf(name);
      return i >= 0 ? (fields[i] ?? '') : '';
    };
    const words = (value: string) => value.split(/\s+/).filter((w) => w !== '');
    const hostname = get('hostname').trim();
    if (hostname === '') return void errors.push({ line, field: 'hostname', message: 'hostname is missing' });
    records.push({
      line,
      ipAddress: get('ip_address').trim(),
      hostname,
      aliases: words(get('aliases')),
      comment: get('comment') === '' ? null : get('comment'),
      tags: words(get('tags')),
    });
  });
  return { records, errors };
}

/** RFC 4180 records with the line each starts on. */
function csvRows(text: string, errors: FieldProblem[]): Array<{ line: number; fields: string[] }> {
  const rows: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      fields.push(field);
      rows.push({ line: start, fields });
      fields = [];
      field = '';
      line++;
      start = line;
    } else field += c;
  }
  if (quoted) errors.push({ line: start, field: 'csv', message: 'a quoted field is not closed' });
  else if (field !== '' || fields.length > 0) rows.push({ line: start, fields: [...fields, field] });
  return rows;
}

function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
