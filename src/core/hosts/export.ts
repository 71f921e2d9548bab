/**
 * `pgstore hosts export`: every live entry in a format, to a file written atomically
 * (temporary file, fsync, rename) or returned in pages for standard output.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PgstoreError, UsageError } from '../../errors.js';
import { writeFileAtomicPages } from '../../util/atomic-file.js';
import type { HostFormat } from './formats.js';
import { listingText, openHostListing } from './listing.js';
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
  // One snapshot: the count in the header and the rows read after it agree.
  const listing = await openHostListing(options);
  const count = listing.count;
  const pages = listingText(listing, format, options.now ?? new Date());
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
