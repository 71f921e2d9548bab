/**
 * pgstore's own migrations as the tests expect to see them applied: how many, and the newest
 * version, read from migrations/ so that a new migration does not need every test edited.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const files = readdirSync(fileURLToPath(new URL('../../migrations/', import.meta.url)))
  .filter((f) => /^\d+_.*\.sql$/.test(f))
  .sort();

export const MIGRATION_COUNT = files.length;
export const NEWEST_MIGRATION = files.at(-1)!.split('_')[0]!;
