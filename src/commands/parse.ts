/**
 * Option parsers shared by the commands (commander argParser functions). A bad value is a
 * UsageError: exit 2, one line naming the flag, and a hint. A number's hint is the help of the
 * command whose option it is: the parsers leave it out and cli.ts adds it (it knows the command,
 * `See \`pgstore hosts list --help\`.`). Numbers are plain decimals
 * (no '0x10', '1e3', ' 5', '') and bounded: a value past `max` is an error, never a silently
 * rounded float or a number the database, a timer or a child program would reject later.
 */
import { statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** The longest duration a flag takes: a day (PostgreSQL's timeouts stop at about 24.8 days). */
const MAX_DURATION_MS = 86_400_000;

/** A duration flag: `5s`, `500ms`, `2m`, or a bare number of seconds; in milliseconds, at most a day. */
export function duration(flag: string) {
  return (raw: string): number => {
    const m = /^(\d{1,9}(?:\.\d{1,3})?)(ms|s|m)?$/.exec(raw);
    const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000) : NaN;
    if (!m)
      throw new UsageError(`${flag} must be a duration such as 5s, 500ms or 2m, got '${raw}'`, {
        hint: 'A bare number is seconds; 0 turns the timeout off.',
      });
    if (ms > MAX_DURATION_MS)
      throw new UsageError(`${flag} must be at most a day (86400s), got '${raw}'`, {
        hint: 'A bare number is seconds; 0 turns the timeout off.',
      });
    return ms;
  };
}

/** A parser for whole numbers from `min` to `max` (default: the largest exact integer). */
export function wholeNumber(flag: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min)
      throw new UsageError(`${flag} must be a whole number ≥ ${min}, got '${raw}'`);
    if (value > max) throw new UsageError(`${flag} must be at most ${max}, got '${raw}'`);
    return value;
  };
}

/** A parser for decimal numbers (≥ 0, or > 0 with `nonZero`) up to `max`. */
export function decimalNumber(flag: string, options: { nonZero?: boolean; max?: number } = {}) {
  const { nonZero = false, max = Number.MAX_SAFE_INTEGER } = options;
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || (nonZero && value === 0))
      throw new UsageError(`${flag} must be a number ${nonZero ? '> 0' : '≥ 0'}, got '${raw}'`);
    if (value > max) throw new UsageError(`${flag} must be at most ${max}, got '${raw}'`);
    return value;
  };
}

/** Most parallel pg_dump/pg_restore jobs (each is a server connection). */
export const MAX_JOBS = 256;

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function pathProblem(flag: string, raw: string, problem: string, hint: string): UsageError {
  return new UsageError(`${flag} ${raw === '' ? "''" : raw}: ${problem}`, { hint });
}

/** A folder that must exist already (--migrations-dir); `what` names it in messages. */
export function existingFolder(flag: string, what = 'folder') {
  return (raw: string): string => {
    const stats = raw.trim() === '' ? undefined : statOf(raw);
    if (!stats)
      throw new UsageError(`${what} not found: ${raw === '' ? "''" : resolve(raw)}`, {
        hint: `Check the path given to ${flag}.`,
      });
    if (!stats.isDirectory())
      throw new UsageError(`${what} ${resolve(raw)} is a file, not a folder`, {
        hint: `Give ${flag} the folder, not a file in it.`,
      });
    return raw;
  };
}

/**
 * A folder pgstore may create (--dir of backups): if it exists it is a folder, and the
 * nearest part of the path that exists is a folder too (else nothing could be created there).
 */
export function creatableFolder(flag: string) {
  return (raw: string): string => {
    if (raw.trim() === '')
      throw pathProblem(flag, raw, 'is empty', 'Give a folder, or leave the option out for the default.');
    let current = resolve(raw);
    for (;;) {
      const stats = statOf(current);
      if (stats) {
        if (!stats.isDirectory()) {
          throw current === resolve(raw)
            ? pathProblem(flag, raw, 'is a file, not a folder', 'Give a folder.')
            : pathProblem(flag, raw, `${current} is a file, so no folder can be made under it`, 'Give a folder.');
        }
        return raw;
      }
      const parent = dirname(current);
      if (parent === current) return raw;
      current = parent;
    }
  };
}

/** A file pgstore writes (-o, --metrics-file): not a folder, in a folder that exists. */
export function outputFile(flag: string) {
  return (raw: string): string => {
    if (raw.trim() === '') throw pathProblem(flag, raw, 'is empty', 'Give a file name.');
    const path = resolve(raw);
    const cannot = (problem: string, hint: string) =>
      new UsageError(`cannot write ${path}: ${problem}`, { hint: `${hint} (${flag})` });
    if (statOf(path)?.isDirectory() || /[/\\]$/.test(raw))
      throw cannot('it is a folder; a file name is needed', `For example ${flag} ${resolve(raw, 'out')}`);
    const parent = statOf(dirname(path));
    if (!parent) throw cannot(`the folder ${dirname(path)} does not exist`, 'Create it first, or choose another place');
    if (!parent.isDirectory()) throw cannot(`${dirname(path)} is not a folder`, 'Choose another place');
    return raw;
  };
}
