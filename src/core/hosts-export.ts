/**
 * `pgstore hosts export`: every live entry in a format, to a file written atomically
 * (temporary file, fsync, rename) or returned for standard output.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PgstoreError, UsageError } from '../errors.js';
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
  if (options.output) checkFolder(options.output);
  const entries = await withHostsDb(options, ({ stores }) => stores.hosts.listAll());
  const text = renderHosts(entries, format, options.now ?? new Date());
  const bytes = Buffer.byteLength(text);
  if (options.output) {
    try {
      writeFileAtomic(options.output, text);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOSPC' ? 'the disk is full' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
      throw new PgstoreError(`cannot write ${options.output}: ${why}`, { cause: error, hint: 'Check that the folder exists and is writable; nothing was written.' });
    }
    return { format, entries: entries.length, bytes, path: options.output, text: null };
  }
  return { format, entries: entries.length, bytes, path: null, text };
}

/** A usage error, before anything is read, when `output`'s folder is missing or it is a folder. */
function checkFolder(output: string): void {
  const folder = dirname(resolve(output));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new UsageError(`cannot write ${output}: the folder ${folder} does not exist`, { hint: 'Create it first, or choose another --output.' });
  }
  if (existsSync(output) && statSync(output).isDirectory()) throw new UsageError(`cannot write ${output}: it is a folder`, { hint: 'Give a file name.' });
}
