/**
 * `pgstore seed --file PATH`: a user's own seed SQL (a .sql file, or a folder of them run in
 * name order), all in one transaction, recorded with its checksum so it runs once; a changed
 * seed runs again only with --force.
 */
import { endWorkWhenClientGone } from '../../db/client-gone.js';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, normalize, resolve } from 'node:path';
import { describeTarget } from '../../db/config.js';
import { withPool } from '../../db/pool.js';
import { SeedFailedError, UsageError } from '../../errors.js';
import { getEnvironment } from '../../store/admin/index.js';
import { getAppliedSeed, recordSeed, runSqlText } from '../../store/admin/index.js';
import { type CoreOptions, guardProduction } from '../options.js';
import type { SeedFileResult } from '../../types/seed.js';

export { SeedFailedError } from '../../errors.js';

export type { SeedFileResult } from '../../types/seed.js';

export interface SeedFileOptions extends CoreOptions {
  path: string;
  /** Run again although it was applied (or changed since). */
  force?: boolean;
  forceProduction?: boolean;
}

interface SeedSource {
  name: string;
  files: Array<{ path: string; text: string }>;
  sha256: string;
}

/** Reads a seed file or folder; its checksum covers names and contents. */
export function readSeedSource(path: string): SeedSource {
  const full = resolve(path);
  let paths: string[];
  try {
    paths = statSync(full).isDirectory()
      ? readdirSync(full)
          .filter((f) => f.endsWith('.sql'))
          .sort()
          .map((f) => join(full, f))
      : [full];
  } catch {
    throw new UsageError(`seed file or folder not found: ${full}`, {
      hint: 'Pass a .sql file or a folder of .sql files to --file.',
    });
  }
  if (paths.length === 0)
    throw new UsageError(`no .sql files in ${full}`, { hint: 'Seed files end in .sql and run in name order.' });
  const hash = createHash('sha256');
  const files = paths.map((p) => {
    const text = readFileSync(p, 'utf8');
    hash.update(`${basename(p)}\0${text}\0`);
    return { path: p, text };
  });
  // Named by the path as given (normalised), so two folders called seeds/ do not collide.
  return { name: `file:${normalize(path).replace(/\/+$/, '')}`, files, sha256: hash.digest('hex') };
}

function lineOf(text: string, position: unknown): number | undefined {
  const offset = Number(position);
  return Number.isFinite(offset) && offset > 0 ? text.slice(0, offset - 1).split('\n').length : undefined;
}

/** Applies a seed file or folder in one transaction, once. */
export async function seedFromFile(options: SeedFileOptions): Promise<SeedFileResult> {
  const started = performance.now();
  const source = readSeedSource(options.path);
  return withPool(options.target, { max: 1, log: options.log }, async (sql, conn) => {
    const environment = await getEnvironment(sql);
    guardProduction(
      { action: `run seed ${source.name}`, target: describeTarget(conn), environment, details: [] },
      options.forceProduction,
      false,
    );
    const before = await getAppliedSeed(sql, source.name);
    if (before && !options.force) {
      if (before.sha256 === source.sha256) {
        return {
          name: source.name,
          files: source.files.map((f) => f.path),
          sha256: source.sha256,
          status: 'skipped',
          appliedAt: before.appliedAt.toISOString(),
          durationMs: Math.round(performance.now() - started),
        };
      }
      throw new UsageError(`seed ${source.name} changed since it was applied on ${before.appliedAt.toISOString()}`, {
        hint: 'Pass --force to run it again (it runs as a whole, so make it safe to repeat).',
      });
    }
    await sql.begin(async (tx) => {
      // A stopped seed stops its statements on the server too (db/client-gone.ts).
      await endWorkWhenClientGone(tx);
      for (const file of source.files) {
        try {
          await runSqlText(tx, file.text);
        } catch (error) {
          const e = error as { message?: string; position?: unknown };
          const line = lineOf(file.text, e.position);
          throw new SeedFailedError(
            `seed file ${file.path}${line ? ` (line ${line})` : ''} failed: ${e.message ?? String(error)}`,
            {
              hint: 'Nothing from this seed was kept: it runs in one transaction. Fix the file and run it again.',
              cause: error,
            },
          );
        }
      }
      await recordSeed(tx, source.name, source.sha256, { files: source.files.map((f) => basename(f.path)) });
    });
    return {
      name: source.name,
      files: source.files.map((f) => f.path),
      sha256: source.sha256,
      status: before ? 'reapplied' : 'applied',
      appliedAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - started),
    };
  });
}
