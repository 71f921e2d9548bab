/**
 * manifest.json: what a backup holds and how to prove it is intact (sha256 of every file).
 * Written with mode 0600 through a temporary file, fsynced, renamed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CorruptBackupError } from '../../errors.js';
import type { DumpFormat } from '../../tools/pg-dump.js';
import { writeFileAtomic } from '../../util/atomic-file.js';

export { CorruptBackupError } from '../../errors.js';

export const MANIFEST = 'manifest.json';

export interface ManifestFile {
  /** Relative to the backup folder, with forward slashes. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface BackupVerification {
  /** The strongest check this backup has passed: restore (a test restore) > read (checksums + read-back). */
  method: 'read' | 'restore';
  /** When that check passed. */
  at: string;
  /** When the latest check of any method passed, if later (a read after a restore keeps method restore). */
  checkedAt?: string;
}

/** The verification to record after `latest` passed: never a weaker method than one already proven. */
export function strongerVerification(
  previous: BackupVerification | null,
  latest: BackupVerification,
): BackupVerification {
  if (previous?.method === 'restore' && latest.method === 'read')
    return { method: 'restore', at: previous.at, checkedAt: latest.at };
  return latest;
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

/**
 * Everything under `folder` that is not a folder (regular files, and symlinks, which are never
 * followed: a backup holds none), relative, sorted (the manifest itself excluded).
 */
export function filesUnder(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(folder, full).split(sep).join('/'));
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
    files.push({ path, bytes: lstatSync(full).size, sha256: await sha256File(full) });
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
    const bytes = presentBytes(folder, file.path, problems);
    if (bytes === undefined) continue;
    if (bytes !== file.bytes) {
      problems.push(`${file.path} has ${bytes} bytes, the manifest says ${file.bytes} (truncated or overwritten)`);
      continue;
    }
    if ((await sha256File(full)) !== file.sha256)
      problems.push(`${file.path} does not match its sha256 checksum (corrupted)`);
  }
  for (const path of filesUnder(folder)) if (!listed.has(path)) problems.push(`${path} is not in the manifest`);
  return problems;
}

/** Reads a manifest and checks its shape and that it points only inside `folder`; throws CorruptBackupError. */
export function readManifest(folder: string): BackupManifest {
  const path = join(folder, MANIFEST);
  let parsed: BackupManifest;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as BackupManifest;
  } catch (error) {
    throw new CorruptBackupError(`cannot read ${path}: ${(error as Error).message}`, {
      hint: 'This folder is not a complete pgstore backup.',
      cause: error,
    });
  }
  if (
    !parsed ||
    typeof parsed.id !== 'string' ||
    !Array.isArray(parsed.files) ||
    !Array.isArray(parsed.tables) ||
    typeof parsed.dump !== 'string' ||
    typeof parsed.startedAt !== 'string'
  ) {
    throw new CorruptBackupError(`${path} is not a pgstore backup manifest`, {
      hint: 'This folder is not a complete pgstore backup.',
    });
  }
  const problems = manifestProblems(folder, parsed);
  if (problems.length) {
    throw new CorruptBackupError(`${path} is damaged: ${problems.join('; ')}`, {
      hint: 'Do not restore from it. Use another backup (`pgstore backup list`) and take a new one.',
    });
  }
  return parsed;
}

/** Why a path in a manifest is not a plain relative path inside the backup folder (undefined: it is). */
function pathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string' || path === '') return 'is empty';
  if (path.startsWith('/') || path.includes('\\') || path.includes('\0')) return 'is not a relative path';
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..'))
    return 'leaves the backup folder (.. or an empty part)';
  return undefined;
}

/**
 * What makes a manifest untrustworthy before any file is read: a dump or file path outside
 * the folder (absolute, `..`, or through a symlink), a file without a sha256, or a dump that
 * no checksum covers (`files: []` would otherwise verify as "intact" having checked nothing).
 */
export function manifestProblems(folder: string, m: BackupManifest): string[] {
  const problems: string[] = [];
  if (!['custom', 'directory', 'plain'].includes(m.format)) problems.push(`unknown format '${String(m.format)}'`);
  const dumpWhy = pathProblem(m.dump);
  if (dumpWhy) problems.push(`its dump path '${m.dump}' ${dumpWhy}`);
  for (const file of m.files) {
    const why = pathProblem(file?.path);
    if (why) problems.push(`file path '${String(file?.path)}' ${why}`);
    else if (
      !Number.isInteger(file.bytes) ||
      file.bytes < 0 ||
      typeof file.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(file.sha256)
    )
      problems.push(`${file.path} has no valid size and sha256`);
  }
  if (problems.length) return problems;
  const covered =
    m.format === 'directory'
      ? m.files.some((f) => f.path === `${m.dump}/toc.dat`)
      : m.files.some((f) => f.path === m.dump);
  if (!covered)
    problems.push(
      `no checksum covers its dump ${m.dump}${m.format === 'directory' ? '/toc.dat' : ''} (files lists ${m.files.length})`,
    );
  const link = symlinkOnTheWay(folder, m.dump);
  if (link) problems.push(`${link} is a symbolic link (a backup holds none)`);
  return problems;
}

/** The first part of `relPath` under `folder` that is a symlink (undefined: none; a missing part stops the walk). */
function symlinkOnTheWay(folder: string, relPath: string): string | undefined {
  const parts = relPath.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const info = lstatSync(join(folder, ...parts.slice(0, i)), { throwIfNoEntry: false });
    if (!info) return undefined;
    if (info.isSymbolicLink()) return parts.slice(0, i).join('/');
  }
  return undefined;
}

/** The size of a listed file, which must be a regular file reached without symlinks; else a problem is recorded. */
export function presentBytes(folder: string, relPath: string, problems: string[]): number | undefined {
  const link = symlinkOnTheWay(folder, relPath);
  if (link) {
    problems.push(`${link} is a symbolic link (a backup holds none)`);
    return undefined;
  }
  const info = lstatSync(join(folder, relPath), { throwIfNoEntry: false });
  if (!info) problems.push(`${relPath} is missing`);
  else if (!info.isFile()) problems.push(`${relPath} is not a regular file`);
  else return info.size;
  return undefined;
}

/** Cheap checks for listings: every listed file present, a regular file, with the listed size (no hashing). */
export function quickFileProblems(folder: string, manifest: Pick<BackupManifest, 'files'>): string[] {
  const problems: string[] = [];
  for (const file of manifest.files) {
    const bytes = presentBytes(folder, file.path, problems);
    if (bytes !== undefined && bytes !== file.bytes)
      problems.push(`${file.path} has ${bytes} bytes, the manifest says ${file.bytes} (truncated or overwritten)`);
  }
  return problems;
}

/** Writes manifest.json (0600) atomically. */
export function writeManifest(folder: string, manifest: BackupManifest): void {
  writeFileAtomic(join(folder, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, 0o600, { exactMode: true });
}
