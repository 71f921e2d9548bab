/**
 * `pgstore hosts import`: every line parsed and validated (problems reported with their line
 * numbers), then the whole import in one transaction, written as multi-row inserts of events
 * (the database checks and applies each statement's events as a set).
 *
 * Modes, for an entry whose (ip, hostname) is live already or repeated in the file:
 *   skip     keep the existing entry (or the first line), count it as skipped
 *   replace  make the existing entry match the line (aliases, comment, tags); the last line wins
 *   strict   refuse it; any problem refuses the whole import, and nothing is written
 * Invalid lines are never imported; in skip and replace mode the valid ones still are.
 *
 * Into an empty store, with the rights of the tables' owner, 1,000 new entries or more are
 * loaded in bulk (store/admin/new-hosts-load.ts): the entries go straight to COPY text, with
 * no event objects in between, and the events stream to the server while the rest is read
 * and encoded; the projection's rows follow from memory, then the keys and indexes are built
 * (most of the server's time: the trigram indexes). Readers of hosts wait for that import's commit.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { UsageError } from '../../errors.js';
import { claimEmptyHosts, loadNewHosts } from '../../store/admin/index.js';
import type { BatchItem, HostEntry } from '../../store/hosts/index.js';
import { appendChanges, type EntryChanges } from './batch.js';
import { endWorkWhenClientGone } from '../../db/client-gone.js';
import { actorOf, inTransactionOrRollback, Rollback, withHostsDb } from './db.js';
import type { HostRecord, ParsedFile } from './file.js';
import { type HostFormat, parseHostsSlices } from './formats.js';
import { ulid } from './ids.js';
import { changeEvents, envelope, normalizeComment } from './hosts.js';
import { unique, validateHost } from './validation.js';
import type { CoreOptions } from '../options.js';

/** From this many new entries, an import into an empty store may load them in bulk. */
const BULK_THRESHOLD = 1000;
/** Entries per slice of a bulk load (one COPY message of ~0.5 MB of events). */
const SLICE = 2000;
/** The phase once every event is sent and the database applies them (before 'committing'). */
const APPLYING = 'applying the events';
const BULK_HINT = 'Nothing was imported. Run the import again; if it fails again, report it with the file.';

export const IMPORT_MODES = ['skip', 'replace', 'strict'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];

export interface ImportHostsOptions extends CoreOptions {
  /** A file path, or '-' for `readStdin`. */
  source: string;
  readStdin?: () => Promise<string>;
  /** Default: from the file's extension (.jsonl, .ndjson, .csv), else hosts. */
  format?: HostFormat;
  mode?: ImportMode;
  /** Do everything in a transaction, then roll it back. */
  dryRun?: boolean;
  /**
   * Events written so far, of `total`; once every row is sent, `phase` names what the server
   * does before the import ends (keys, indexes and the projection; committing).
   */
  onProgress?: (done: number, total: number, phase?: string) => void;
  now?: Date;
}

export interface ImportProblem {
  line: number;
  field: string;
  message: string;
  /** invalid: the line breaks a rule; duplicate: the entry exists (strict mode). */
  kind: 'invalid' | 'duplicate';
}

export interface ImportResult {
  source: string;
  format: HostFormat;
  mode: ImportMode;
  dryRun: boolean;
  /** Whether the transaction committed changes (false for dry runs and refused imports). */
  written: boolean;
  processed: number;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  errors: ImportProblem[];
  durationMs: number;
}

/** Imports a file of entries; problems are in the result (the command picks the exit code). */
export async function importHosts(options: ImportHostsOptions): Promise<ImportResult> {
  const started = performance.now();
  const format = options.format ?? formatOf(options.source);
  const mode = options.mode ?? 'skip';
  const now = options.now ?? new Date();
  const text = await readSource(options);

  const result: ImportResult = {
    source: options.source,
    format,
    mode,
    dryRun: !!options.dryRun,
    written: false,
    processed: 0,
    created: 0,
    updated: 0,
    skipped: 0,
    failed: 0,
    errors: [],
    durationMs: 0,
  };
  const fail = (problem: ImportProblem) => result.errors.push(problem);

  // Every line validated; one record kept per (ip, hostname). `take` reads a slice of the file
  // and passes each record it keeps for the first time to `chose`.
  const chosen = new Map<string, HostRecord>();
  const take = (parsed: ParsedFile, chose?: (record: HostRecord) => void) => {
    result.processed += parsed.records.length + parsed.errors.length;
    for (const p of parsed.errors) fail({ line: p.line ?? 0, field: p.field, message: p.message, kind: 'invalid' });
    for (const record of parsed.records) {
      // Normalized in place: the parsed records are this import's own (no copy of 100k objects).
      if (record.aliases.length > 1) record.aliases = unique(record.aliases);
      if (record.tags.length > 1) record.tags = unique(record.tags);
      record.comment = normalizeComment(record.comment);
      const problems = validateHost(record);
      if (problems.length > 0) {
        for (const p of problems) fail({ line: record.line, field: p.field, message: p.message, kind: 'invalid' });
        continue;
      }
      const key = `${record.ipAddress} ${record.hostname}`;
      const first = chosen.get(key);
      if (first === undefined) {
        chosen.set(key, record);
        chose?.(record);
      } else if (mode === 'strict')
        fail({
          line: record.line,
          field: 'hostname',
          message: `${key} is already on line ${first.line}`,
          kind: 'duplicate',
        });
      else {
        result.skipped += 1;
        if (mode === 'replace') chosen.set(key, record);
      }
    }
  };
  const slices = parseHostsSlices(text, format);
  const takeAll = () => {
    for (const slice of slices) take(slice);
  };
  // A large hosts file that keeps the first of repeated entries may stream into an empty store
  // while it is read (replace mode cannot: a later line changes an entry already chosen).
  const lines = mode !== 'replace' && format === 'hosts' ? lineCount(text) : 0;
  if (lines < BULK_THRESHOLD) takeAll();

  const final = await withHostsDb(options, ({ sql }) =>
    inTransactionOrRollback(sql, async (stores, tx) => {
      // A Ctrl+C or SIGTERM ends the server's side too, within a second, not after the COPY
      // or the index builds it is in (sent with the count: no round trip of its own).
      const [, count] = await Promise.all([endWorkWhenClientGone(tx), stores.hosts.count()]);
      const wasEmpty = count === 0;
      if (lines >= BULK_THRESHOLD && wasEmpty && (await claimEmptyHosts(tx))) {
        // Read, checked and sent a slice at a time: the server loads one while the next is read.
        function* fresh(): Generator<HostRecord[]> {
          for (const slice of slices) {
            const kept: HostRecord[] = [];
            take(slice, (record) => kept.push(record));
            yield kept;
          }
        }
        let done = 0;
        options.onProgress?.(0, lines);
        result.created = await loadNewHosts(
          tx,
          fresh(),
          lines,
          { createdAt: now, createdBy: actorOf(options), newId: () => ulid(now.getTime()) },
          (n) => options.onProgress?.((done += n), lines),
          // Every line is read once the events are in (the count may have held a last empty line).
          { hint: BULK_HINT, onPhase: (phase) => options.onProgress?.(lines, lines, phase) },
        );
        options.onProgress?.(lines, lines, 'committing');
        finish(result);
        if ((mode === 'strict' && result.failed > 0) || options.dryRun) throw new Rollback({ ...result });
        return { ...result, written: result.created > 0 };
      }
      if (lines >= BULK_THRESHOLD) takeAll();
      const records = [...chosen.values()];
      const existing = wasEmpty
        ? new Map<string, HostEntry>()
        : await stores.hosts.findByPairs(records.map((r) => [r.ipAddress, r.hostname]));
      const fresh: HostRecord[] = [];
      const updates: EntryChanges[] = [];
      for (const record of records) {
        const entry = existing.get(`${record.ipAddress} ${record.hostname}`);
        if (!entry) fresh.push(record);
        else if (mode === 'strict') {
          fail({
            line: record.line,
            field: 'hostname',
            message: `${record.ipAddress} ${record.hostname} exists already (host ${entry.id})`,
            kind: 'duplicate',
          });
        } else {
          const events = mode === 'replace' ? changeEvents(entry, record, now) : [];
          if (events.length === 0) result.skipped += 1;
          else updates.push({ id: entry.id, version: entry.version, events });
        }
      }
      finish(result);
      if (mode === 'strict' && result.failed > 0) throw new Rollback({ ...result });

      const total = fresh.length + updates.reduce((n, u) => n + u.events.length, 0);
      options.onProgress?.(0, total);
      if (wasEmpty && fresh.length >= BULK_THRESHOLD && (await claimEmptyHosts(tx))) {
        let done = 0;
        await loadNewHosts(
          tx,
          inSlices(fresh, SLICE),
          fresh.length,
          { createdAt: now, createdBy: actorOf(options), newId: () => ulid(now.getTime()) },
          (n) => options.onProgress?.((done += n), total),
          { hint: BULK_HINT, onPhase: (phase) => options.onProgress?.(done, total, phase) },
        );
      } else {
        const done = await appendChanges(stores, updates, now, options, (n) => options.onProgress?.(n, total));
        const creates = fresh.map((record): BatchItem => {
          const id = ulid(now.getTime());
          const { line: _line, ...input } = record;
          return {
            envelope: envelope(id, { type: 'HostCreated', ...input, createdAt: now }, now, options),
            expectedVersion: null,
          };
        });
        // Once the last row is sent, the database checks and applies the whole COPY as one set
        // (seconds for 100k entries): the bar names that wait instead of standing at 100%.
        await stores.hostEvents.appendBatch(creates, {
          onProgress: (n) => options.onProgress?.(done + n, total, done + n === total ? APPLYING : undefined),
        });
      }
      result.created = fresh.length;
      result.updated = updates.length;
      if (options.dryRun) throw new Rollback({ ...result });
      if (total > 0) options.onProgress?.(total, total, 'committing');
      return { ...result, written: total > 0 };
    }),
  );
  return { ...final, durationMs: Math.round(performance.now() - started) };
}

/** The format for a file name: .jsonl/.ndjson, .csv, else hosts. */
export function formatOf(source: string): HostFormat {
  const ext = extname(source).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  return 'hosts';
}

/** `items` in slices of `size`. */
function* inSlices<T>(items: T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

/** The number of lines of `text` (an upper bound of its entries). */
function lineCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function finish(result: ImportResult): void {
  result.errors.sort((a, b) => a.line - b.line);
  result.failed = new Set(result.errors.map((e) => e.line)).size;
}

async function readSource(options: ImportHostsOptions): Promise<string> {
  if (options.source === '-') {
    if (!options.readStdin) throw new UsageError('cannot read the entries from standard input here');
    return options.readStdin();
  }
  try {
    return readFileSync(options.source, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new UsageError(`cannot read ${options.source}: ${why}`, {
      hint: 'Give a hosts, JSON Lines or CSV file, or - for standard input.',
    });
  }
}
