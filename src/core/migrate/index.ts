/**
 * pgstore migrate: the two migration sets, applied, checked, linted and rehearsed: the folder's
 * public face. What `migrate up` does not need (the schema dump, the linter, the drift check)
 * is loaded on its first call, so that `migrate up` starts without it
 * (test/e2e/migrate-startup.test.ts); their types are exported as they are.
 */
export * from './apply.js';
export * from './files.js';
export * from './history.js';
export * from './locks.js';
export * from './migrate.js';
export * from './runner-sets.js';
export * from './scratch-db.js';
export * from './session.js';
export * from './sets.js';
export * from './status.js';
export type * from './diff.js';
export type * from './dump.js';
export type * from './lint.js';
export type * from './preflight.js';

type Dump = typeof import('./dump.js');
type Lint = typeof import('./lint.js');

/** Dumps the schema of the target database to a file (dump.ts). */
export const dumpSchema = async (...args: Parameters<Dump['dumpSchema']>) =>
  (await import('./dump.js')).dumpSchema(...args);
/** dbmate's schema file after `up` and `down` of a project's migrations (dump.ts). */
export const autoDumpSchema = async (...args: Parameters<Dump['autoDumpSchema']>) =>
  (await import('./dump.js')).autoDumpSchema(...args);
/** Lints migration files with squawk (lint.ts). */
export const lintMigrations = async (...args: Parameters<Lint['lintMigrations']>) =>
  (await import('./lint.js')).lintMigrations(...args);
/** Lints files as given (lint.ts). */
export const lintEach = async (...args: Parameters<Lint['lintEach']>) => (await import('./lint.js')).lintEach(...args);
/** The lint pre-flight of `migrate up` (preflight.ts). */
export const preflightLint = async (...args: Parameters<typeof import('./preflight.js').preflightLint>) =>
  (await import('./preflight.js')).preflightLint(...args);
/** Drift between the migration files and the live schema (diff.ts). */
export const diffSchema = async (...args: Parameters<typeof import('./diff.js').diffSchema>) =>
  (await import('./diff.js')).diffSchema(...args);
