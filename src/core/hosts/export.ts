/**
 * `pgstore hosts export`: every live entry in a format, to a file written atomically
 * (temporary file, fsync, rename) or returned in pages for standard output.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PgstoreError, UsageError } from '../../errors.js';
import { writeFileAtomicPages } from '../../util/atomic-file.js';
import { snapshotReader } from '../../store/cursor.js';
import { createHostsStore, guardHosts, type HostEntryJson } from '../../store/hosts/index.js';
import { openHostsDb } from './db.js';
import { hostsFileHeader } from './file.js';
import { CSV_COLUMNS, type HostFormat, renderHostsLines } from './formats.js';
import type { CoreOptions } from '../options.js';

export interface ExportHostsOptions extends CoreOptions {
  format?: HostFormat;
  /** A file to write; without it the text is returned, in pages. */
  output?: string;
  now?: Date;
}

export interface ExportResult {
  format: HostFormat;
  entries: number;
  /** Bytes written to the file (null without one). */
  bytes: number | null;
  /** The file written, or null. */
  path: string | null;
  /** The text in pages when no output file was given, read as it is written (one cursor). */
  pages: AsyncIterable<string> | null;
}

/** Renders the current entries; writes them to `output` atomically when given. */
export async function exportHosts(options: ExportHostsOptions): Promise<ExportResult> {
  const format = options.format ?? 'hosts';
  if (options.output) checkFolder(options.output);
  const { sql } = await openHostsDb(options);
  let reader: Awaited<ReturnType<typeof snapshotReader>> | undefined;
  let count: number;
  try {
    // One snapshot: the count in the header and the rows read after it agree.
    reader = await guardHosts(() => snapshotReader(sql));
    count = await createHostsStore(reader.sql).count();
  } catch (error) {
    // The snapshot first: ending the pool waits (its 5 s) for a connection still reserved.
    await reader?.close().catch(() => undefined);
    await sql.end({ timeout: 5 }).catch(() => undefined);
    throw error;
  }
  const snapshot = reader;
  const pages = renderPages(
    createHostsStore(snapshot.sql).searchJsonPages(),
    count,
    format,
    options.now ?? new Date(),
    async () => {
      await snapshot.close().catch(() => undefined);
      await sql.end({ timeout: 5 }).catch(() => undefined);
    },
  );
  if (options.output) {
    let bytes: number;
    try {
      bytes = await writeFileAtomicPages(options.output, pages);
    } catch (error) {
      if (!(error as NodeJS.ErrnoException).code) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ENOSPC'
            ? 'the disk is full'
            : code === 'EISDIR'
              ? 'it is a folder'
              : (error as Error).message;
      throw new PgstoreError(`cannot write ${options.output}: ${why}`, {
        cause: error,
        hint: 'Check that the folder exists and is writable; nothing was written.',
      });
    }
    return { format, entries: count, bytes, path: options.output, pages: null };
  }
  return { format, entries: count, bytes: null, path: null, pages };
}

/**
 * The entries' text a page at a time as they are read from the cursor (already in byte
 * order, the hosts table's collation "C"); `done` runs when the pages end, early or not.
 */
async function* renderPages(
  entries: AsyncIterable<HostEntryJson[]>,
  count: number,
  format: HostFormat,
  now: Date,
  done: () => Promise<void>,
): AsyncGenerator<string> {
  try {
    if (format === 'hosts') yield hostsFileHeader(count, now);
    if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
    for await (const page of entries) yield renderHostsLines(page, format);
  } finally {
    await done();
  }
}

/** A usage error, before anything is read, when `output`'s folder is missing or it is a folder. */
function checkFolder(output: string): void {
  const folder = dirname(resolve(output));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UsageError(`cannot write ${output}: the folder ${folder} does not exist`, {
      hint: 'Create it first, or choose another --output.',
    });
  }
  if (existsSync(output) && statSync(output).isDirectory())
    throw new UsageError(`cannot write ${output}: it is a folder`, { hint: 'Give a file name.' });
}
