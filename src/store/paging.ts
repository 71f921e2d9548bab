/**
 * Paging for every store's lists: one rule for limit and offset, so that a bad value is the
 * same ValidationError everywhere (never a driver error, never silently changed).
 */
import { ValidationError } from '../errors.js';

/** Paging options every list takes. */
export interface PageOptions {
  /** At most this many rows. */
  limit?: number | undefined;
  /** Skip this many rows first. */
  offset?: number | undefined;
}

export interface PageRules {
  /** The limit when none is given. */
  defaultLimit: number;
  /** Larger limits are lowered to this. */
  maxLimit?: number;
}

/**
 * `limit` and `offset` checked (whole numbers ≥ 0, else ValidationError). Without rules a
 * missing limit is null (all rows); with them it is `defaultLimit`, and at most `maxLimit`.
 */
export function pageOf(options: PageOptions | undefined, rules: PageRules): { limit: number; offset: number };
export function pageOf(options?: PageOptions): { limit: number | null; offset: number };
export function pageOf(options: PageOptions = {}, rules?: PageRules): { limit: number | null; offset: number } {
  const { limit, offset = 0 } = options;
  if (limit !== undefined && limit !== null && !wholeNumber(limit))
    throw new ValidationError(`limit must be a whole number ≥ 0, not ${String(limit)}`, { field: 'limit' });
  if (!wholeNumber(offset))
    throw new ValidationError(`offset must be a whole number ≥ 0, not ${String(offset)}`, { field: 'offset' });
  if (!rules) return { limit: limit ?? null, offset };
  return { limit: Math.min(limit ?? rules.defaultLimit, rules.maxLimit ?? Infinity), offset };
}

function wholeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
