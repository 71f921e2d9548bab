/**
 * Option parsers shared by the commands (commander argParser functions). A bad value is a
 * UsageError: exit 2, one line naming the flag, and a hint.
 */
import { UsageError } from '../errors.js';

/** A parser for whole numbers ≥ min. */
export function wholeNumber(flag: string, min = 0) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || value < min) {
      throw new UsageError(`${flag} must be a whole number ≥ ${min}, got '${raw}'`, { hint: 'See --help.' });
    }
    return value;
  };
}

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
