/**
 * What `pgstore restore` restores from: `latest`, a backup ID, a backup folder, or a dump
 * made elsewhere (a custom archive, a directory archive, a .sql or .sql.gz file). A pgstore
 * backup's checksums are verified before anything touches the target.
 */
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { DumpFormat } from '../../tools/pg-dump.js';
import { findBackup } from '../backup/index.js';
import { type BackupManifest, MANIFEST, readManifest } from '../backup/index.js';
import { dumpMajor, verifyChecksums } from '../backup/index.js';

export interface RestoreSource {
  /** The backup's ID, or null for a dump made elsewhere. */
  id: string | null;
  /** The backup folder, or the dump itself. */
  path: string;
  /** The dump file or directory archive. */
  dumpPath: string;
  format: DumpFormat;
  /** Null for a dump made elsewhere: no checksums, no row counts to compare. */
  manifest: BackupManifest | null;
}

export interface ResolveOptions {
  /** `latest` passes over damaged backups (each named through `log`) instead of refusing. */
  skipDamaged?: boolean | undefined;
  log?: ((message: string) => void) | undefined;
}

/**
 * Resolves `ref` (latest | ID | <database>/<ID> | PATH); backups are looked up under `dir` for
 * `database`. `latest` never passes over a damaged backup silently: it refuses (exit 1, naming
 * it) unless `skipDamaged`, and then says which it passed over.
 */
export function resolveSource(ref: string, dir: string, database: string, options: ResolveOptions = {}): RestoreSource {
  if (ref !== 'latest' && existsSync(ref)) return fromPath(resolve(ref));
  if (/^[./~\\]|\.(sql|gz|dump|backup)$/.test(ref)) {
    throw new UsageError(`${ref} does not exist`, {
      hint: 'Pass a backup ID (`pgstore backup list`), `latest`, or the path of a dump.',
    });
  }
  const entry = findBackup(dir, database, ref, { skipDamaged: options.skipDamaged });
  for (const d of entry.skipped)
    options.log?.(`warning: passed over damaged backup ${d.database}/${d.id}: ${d.problem}`);
  return {
    id: `${entry.database}/${entry.id}`,
    path: entry.path,
    dumpPath: join(entry.path, entry.manifest.dump),
    format: entry.manifest.format,
    manifest: entry.manifest,
  };
}

function fromPath(path: string): RestoreSource {
  const info = statSync(path);
  if (info.isDirectory()) {
    if (existsSync(join(path, MANIFEST))) {
      const manifest = readManifest(path);
      return {
        id: `${manifest.database}/${manifest.id}`,
        path,
        dumpPath: join(path, manifest.dump),
        format: manifest.format,
        manifest,
      };
    }
    if (existsSync(join(path, 'toc.dat')))
      return { id: null, path, dumpPath: path, format: 'directory', manifest: null };
    throw new UsageError(
      `${path} is neither a pgstore backup (no manifest.json) nor a directory-format dump (no toc.dat)`,
      { hint: 'Pass a backup folder, a dump file, or a backup ID.' },
    );
  }
  const head = readHead(path, 4096);
  if (head.subarray(0, 5).toString('latin1') === 'PGDMP')
    return { id: null, path, dumpPath: path, format: 'custom', manifest: null };
  checkLooksLikeSql(path, head);
  return { id: null, path, dumpPath: path, format: 'plain', manifest: null };
}

const COMPRESSED = [
  Buffer.from([0x1f, 0x8b]),
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  Buffer.from([0x04, 0x22, 0x4d, 0x18]),
];

/**
 * A plain dump is SQL: its first line starts with a comment, a psql command or a keyword.
 * Anything else (a hosts file, a binary, an empty file) is refused before psql runs it.
 */
function checkLooksLikeSql(path: string, head: Buffer): void {
  // Compressed plain dumps (gzip; zstd and lz4 get their own message when loaded) are not read here.
  if (COMPRESSED.some((magic) => head.subarray(0, magic.length).equals(magic))) return;
  const text = head.toString('utf8');
  const first =
    text
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? '';
  if (!text.includes('\0') && /^(--|\/\*|\\|[A-Za-z])/.test(first)) return;
  const shown = first.length > 40 ? `${first.slice(0, 37)}...` : first;
  throw new UsageError(
    `${path} is not a pg_dump archive or SQL dump (${first === '' ? 'it is empty' : text.includes('\0') ? 'it is binary' : `it starts with '${shown}'`})`,
    {
      hint: 'Pass a pgstore backup folder or ID, a pg_dump -Fc file, a -Fd folder, or a plain SQL dump.',
    },
  );
}

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/** Verifies a backup's files against its manifest (nothing to check for a foreign dump). */
export async function verifySource(source: RestoreSource): Promise<'verified' | 'no manifest'> {
  if (!source.manifest) return 'no manifest';
  await verifyChecksums(source.path, source.manifest);
  return 'verified';
}

/** The lowest client major that can read the source. */
export function sourceClientMajor(source: RestoreSource): number {
  return source.manifest ? dumpMajor(source.manifest) : 0;
}
