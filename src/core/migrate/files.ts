/**
 * Migration files on disk: dbmate's format (any name dbmate accepts, `^(\d+).*\.sql$`, e.g.
 * 20260101120000_create_users.sql or 0001-init.sql, with `-- migrate:up` and `-- migrate:down`
 * sections), checked before anything touches the database. Other files in the folder (a
 * schema.sql dump, a README) are ignored, as dbmate ignores them.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { AppliedMigration } from '../../store/admin/index.js';
import { packageRoot } from '../../util/package-root.js';

export interface MigrationFile {
  version: string;
  name: string;
  filename: string;
  path: string;
  sha256: string;
  /** `-- migrate:up transaction:false`: runs outside a transaction. */
  transactional: boolean;
  /** `-- migrate:down transaction:false`: the down section runs outside a transaction. */
  downTransactional: boolean;
  hasDown: boolean;
}

/** pgstore's own migrations, shipped in the package. */
export function defaultMigrationsDir(): string {
  return join(packageRoot(), 'migrations');
}

/** dbmate's own pattern (pkg/dbmate/migration.go): a version, anything, `.sql`. */
const FILE = /^(\d+)(.*)\.sql$/;
const SECTION = /^--\s*migrate:(up|down)\b(.*)$/gm;

/** Reads and checks every migration in `dir`; throws one UsageError listing every problem. */
export function readMigrations(dir: string): MigrationFile[] {
  const reader = migrationReader(dir);
  while (reader.next());
  return reader.result();
}

/**
 * readMigrations, one file per turn of the event loop: what arrives meanwhile (the server's
 * answers while a connection is made) is handled between two files, not after all of them.
 */
export async function readMigrationsInTurns(dir: string): Promise<MigrationFile[]> {
  const reader = migrationReader(dir);
  do await new Promise((resolve) => setImmediate(resolve));
  while (reader.next());
  return reader.result();
}

/** Reads a folder's migrations a file at a time: `next()` reads one (false when none is left). */
function migrationReader(dir: string): { next(): boolean; result(): MigrationFile[] } {
  const root = resolve(dir);
  let names: string[];
  try {
    if (!statSync(root).isDirectory()) throw new Error('not a folder');
    names = readdirSync(root).sort();
  } catch {
    throw new UsageError(`migrations folder not found: ${root}`, {
      hint: 'Pass an existing folder with --migrations-dir, or create one with `pgstore migrate new NAME --migrations-dir DIR`.',
    });
  }
  const problems: string[] = [];
  const files: MigrationFile[] = [];
  const seen = new Map<string, string>();
  let at = 0;
  const next = (): boolean => {
    for (; at < names.length; ) {
      const filename = names[at++]!;
      const match = FILE.exec(filename);
      if (!match) continue; // not a migration to dbmate either
      files.push(readOne(root, filename, match as unknown as [string, string, string], seen, problems));
      return at < names.length;
    }
    return false;
  };
  const result = () => {
    if (problems.length) {
      throw new UsageError(`invalid migrations in ${root}: ${problems.join('; ')}`, {
        hint: 'Fix the files listed; nothing was applied.',
      });
    }
    return files;
  };
  return { next, result };
}

function readOne(
  root: string,
  filename: string,
  [, version, rest]: [string, string, string],
  seen: Map<string, string>,
  problems: string[],
): MigrationFile {
  const name = rest.replace(/^[_\-.\s]+/, '') || version;
  const other = seen.get(version);
  if (other) problems.push(`${filename}: version ${version} is used by ${other} too`);
  seen.set(version, filename);
  const path = join(root, filename);
  const text = readFileSync(path, 'utf8');
  const sections = [...text.matchAll(SECTION)];
  const ups = sections.filter((s) => s[1] === 'up');
  const downs = sections.filter((s) => s[1] === 'down');
  if (ups.length === 0) problems.push(`${filename}: no '-- migrate:up' section`);
  if (ups.length > 1) {
    // dbmate would record the file as applied after a partial failure (dbmate issue #820).
    problems.push(`${filename}: ${ups.length} '-- migrate:up' sections; a file must have exactly one`);
  }
  if (downs.length > 1)
    problems.push(`${filename}: ${downs.length} '-- migrate:down' sections; a file must have at most one`);
  return {
    version,
    name,
    filename,
    path,
    sha256: fileChecksum(text),
    transactional: !/transaction:false/.test(ups[0]?.[2] ?? ''),
    downTransactional: !/transaction:false/.test(downs[0]?.[2] ?? ''),
    hasDown: downs.length === 1 && sectionBody(text, 'down').trim() !== '',
  };
}

/** A migration file's checksum, as its history row keeps it: the sha256 of its text. */
export const fileChecksum = (text: string) => createHash('sha256').update(text).digest('hex');

/** The SQL of one section of a migration file. */
export function sectionBody(text: string, section: 'up' | 'down'): string {
  const marks = [...text.matchAll(SECTION)];
  const start = marks.find((m) => m[1] === section);
  if (!start || start.index === undefined) return '';
  const from = start.index + start[0].length;
  const next = marks.find((m) => (m.index ?? 0) > start.index!);
  return text.slice(from, next?.index ?? text.length);
}

/** A new migration's file name: the UTC timestamp and a snake_case name. */
export function newMigrationFilename(name: string, now = new Date()): string {
  const slug = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!slug)
    throw new UsageError(`'${name}' is not a usable migration name`, {
      hint: 'Use letters and digits, e.g. add_user_avatar.',
    });
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${stamp}_${slug}.sql`;
}

/** Files edited after they were applied, and applied versions whose file is gone. */
export function findDrift(
  files: MigrationFile[],
  applied: AppliedMigration[],
): Array<{ version: string; filename: string; problem: 'edited' | 'missing' }> {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const drift: Array<{ version: string; filename: string; problem: 'edited' | 'missing' }> = [];
  for (const row of applied) {
    const file = byVersion.get(row.version);
    if (!file)
      drift.push({ version: row.version, filename: row.filename ?? `${row.version}_?.sql`, problem: 'missing' });
    else if (row.sha256 && row.sha256 !== file.sha256)
      drift.push({ version: row.version, filename: file.filename, problem: 'edited' });
  }
  return drift;
}
