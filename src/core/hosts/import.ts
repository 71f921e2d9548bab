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
 * no event objects in between, and stream to the server while the rest is encoded; most of
 * the time is then the server's (the trigram indexes' build). Readers of hosts wait for that
 * import's commit.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { UsageError } from '../../errors.js';
import { claimEmptyHosts, loadNewHosts } from '../../store/admin/index.js';
import type { BatchItem, HostEntry } from '../../store/hosts/index.js';
import { appendChanges, type EntryChanges } from './batch.js';
import { actorOf, inTransactionOrRollback, Rollback, withHostsDb } from './db.js';
import type { HostRecord } from './file.js';
import { type HostFormat, parseHosts } from './formats.js';
import { ulid } from './ids.js';
import { changeEvents, envelope, normalizeComment } from './hosts.js';
import { unique, validateHost } from './validation.js';
import type { CoreOptions } from '../options.js';

/** From this many new entries, an import into an empty store may load them in bulk. */
const BULK_THRESHOLD = 1000;

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
  /** Events written so far, of `total`. */
  onProgress?: (done: number, total: number) => void;
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

  const parsed = parseHosts(text, format);
  const result: ImportResult = {
    source: options.source,
    format,
    mode,
    dryRun: !!options.dryRun,
    written: false,
    processed: parsed.records.length + parsed.errors.length,
    created: 0,
    updated: 0,
    skipped: 0,
    failed: 0,
    errors: parsed.errors.map((p) => ({ line: p.line ?? 0, field: p.field, message: p.message, kind: 'invalid' })),
    durationMs: 0,
  };
  const fail = (problem: ImportProblem) => result.errors.push(problem);

  // Validate every line; keep one record per (ip, hostname).
  const chosen = new Map<string, HostRecord>();
  for (const raw of parsed.records) {
    const record: HostRecord = {
      ...raw,
      aliases: unique(raw.aliases),
      tags: unique(raw.tags),
      comment: normalizeComment(raw.comment),
    };
    const problems = validateHost(record);
    if (problems.length > 0) {
      for (const p of problems) fail({ line: record.line, field: p.field, message: p.message, kind: 'invalid' });
      continue;
    }
    const key = `${record.ipAddress} ${record.hostname}`;
    const first = chosen.get(key);
    if (first === undefined) chosen.set(key, record);
    else if (mode === 'strict')
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

  const final = await withHostsDb(options, ({ sql }) =>
    inTransactionOrRollback(sql, async (stores, tx) => {
      const records = [...chosen.values()];
      const wasEmpty = (await stores.hosts.count()) === 0;
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
          fresh,
          { createdAt: now, createdBy: actorOf(options), newId: () => ulid(now.getTime()) },
          (n) => options.onProgress?.((done += n), total),
          { hint: 'Nothing was imported. Run the import again; if it fails again, report it with the file.' },
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
        await stores.hostEvents.appendBatch(creates, { onProgress: (n) => options.onProgress?.(done + n, total) });
      }
      result.created = fresh.length;
      result.updated = updates.length;
      if (options.dryRun) throw new Rollback({ ...result });
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
