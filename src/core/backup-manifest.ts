/**
 * manifest.json: what a backup holds and how to prove it is intact (sha256 of every file).
 * Written with mode 0600 through a temporary file, fsynced, renamed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { PgstoreError } from '../errors.js';
import type { DumpFormat } from '../tools/pg-dump.js';
import { writeFileAtomic } from '../util/atomic-file.js';

export const MANIFEST = 'manifest.json';

export interface ManifestFile {
  /** Relative to the backup folder, with forward slashes. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface BackupVerification {
  method: 'read' | 'restore';
  at: string;
}

export interface BackupManifest {
  id: string;
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
  pgstoreVersion: string;
  format: DumpFormat;
  compression: string;
  /** The dump inside the folder: a file (custom, plain) or a folder (directory). */
  dump: string;
  label: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  sizeBytes: number;
  files: ManifestFile[];
  /** The newest applied migration (dbmate's schema_migrations), or null. */
  migrationVersion: string | null;
  /** Exact row counts, taken in the same snapshot as the dump. */
  tables: Array<{ schema: string; name: string; rows: number }>;
  /** The last successful verification, or null when never verified. */
  verified: BackupVerification | null;
}

/** A backup that is damaged: exit 1, and nothing is restored from it. */
export class CorruptBackupError extends PgstoreError {}

/** Every regular file under `folder`, relative, sorted (the manifest itself excluded). */
export function filesUnder(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(relative(folder, full).split(sep).join('/'));
    }
  };
  walk(folder);
  return out.filter((path) => path !== MANIFEST).sort();
}

/** The sha256 of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Size and sha256 of every file in a backup folder. */
export async function checksumFiles(folder: string): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const path of filesUnder(folder)) {
    const full = join(folder, path);
    files.push({ path, bytes: statSync(full).size, sha256: await sha256File(full) });
  }
  return files;
}

/**
 * Compares a backup folder with its manifest: every listed file present with the same size
 * and sha256, and no unlisted file in the dump. Returns the problems found (empty: intact).
 */
export async function checkFiles(folder: string, manifest: Pick<BackupManifest, 'files'>): Promise<string[]> {
  const problems: string[] = [];
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const file of manifest.files) {
    const full = join(folder, file.path);
    let bytes: number;
    try {
      bytes = statSync(full).size;
    } catch {
      problems.push(`${file.path} is missing`);
      continue;
    }
    if (bytes !== file.bytes) {
      problems.push(`${file.path} has ${bytes} bytes, the manifest says ${file.bytes} (truncated or overwritten)`);
      continue;
    }
    if ((await sha256File(full)) !== file.sha256) problems.push(`${file.path} does not match its sha256 checksum (corrupted)`);
  }
  for (const path of filesUnder(folder)) if (!listed.has(path)) problems.push(`${path} is not in the manifest`);
  return problems;
}

/** Reads and checks the shape of a manifest; throws CorruptBackupError when unreadable. */
export function readManifest(folder: string): BackupManifest {
  const path = join(folder, MANIFEST);
  let parsed: BackupManifest;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as BackupManifest;
  } catch (error) {
    throw new CorruptBackupError(`cannot read ${path}: ${(error as Error).message}`, { hint: 'This folder is not a complete pgstore backup.', cause: error });
  }
  if (!parsed || typeof parsed.id !== 'string' || !Array.isArray(parsed.files) || !Array.isArray(parsed.tables) || typeof parsed.dump !== 'string') {
    throw new CorruptBackupError(`${path} is not a pgstore backup manifest`, { hint: 'This folder is not a complete pgstore backup.' });
  }
  return parsed;
}

/** Writes manifest.json (0600) atomically. */
export function writeManifest(folder: string, manifest: BackupManifest): void {
  writeFileAtomic(join(folder, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, 0o600);
}
