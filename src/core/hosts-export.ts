/**
 * `pgstore hosts export`: every live entry in a format, to a file written atomically
 * (temporary file, fsync, rename) or returned for standard output.
 */
import { PgstoreError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { withHostsDb } from './hosts-db.js';
import { type HostFormat, renderHosts } from './hosts-formats.js';
import type { CoreOptions } from './options.js';

export interface ExportHostsOptions extends CoreOptions {
  format?: HostFormat;
  /** A file to write; without it the text is returned. */
  output?: string;
  now?: Date;
}

export interface ExportResult {
  format: HostFormat;
  entries: number;
  bytes: number;
  /** The file written, or null. */
  path: string | null;
  /** The rendered text when no output file was given. */
  text: string | null;
}

/** Renders the current entries; writes them to `output` atomically when given. */
export async function exportHosts(options: ExportHostsOptions): Promise<ExportResult> {
  const format = options.format ?? 'hosts';
  const entries = await withHostsDb(options, ({ stores }) => stores.hosts.listAll());
  const text = renderHosts(entries, format, options.now ?? new Date());
  const bytes = Buffer.byteLength(text);
  if (options.output) {
    try {
      writeFileAtomic(options.output, text);
    } catch (error) {
      throw new PgstoreError(`cannot write ${options.output}: ${(error as Error).message}`, { cause: error, hint: 'Check that the folder exists and is writable.' });
    }
    return { format, entries: entries.length, bytes, path: options.output, text: null };
  }
  return { format, entries: entries.length, bytes, path: null, text };
}
