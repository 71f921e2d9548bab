/**
 * Lint rules that do not apply where pgstore itself applies the files: its runner sets
 * lock_timeout for every migration session (--lock-timeout, default 5s). Apart from lint.ts so
 * that the folder's index can export it without loading the linter.
 */
export const RUNNER_SETS = ['require-lock-timeout'];
