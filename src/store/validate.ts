/**
 * The stores' one check of input shapes, so that a missing or mistyped field is a
 * ValidationError naming it (never postgres.js's UNDEFINED_VALUE or a driver type error), and
 * a key that cannot name a row reads as "missing" (null, false, [], NotFoundError).
 */
import { ValidationError } from '../errors.js';

const kind = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

function fail(entity: string, field: string, rule: string, value: unknown): never {
  const missing = value === undefined || value === null;
  throw new ValidationError(`${entity}: ${field} ${missing ? 'is required' : `must be ${rule}, not ${kind(value)}`}`, {
    field,
  });
}

/** `value` as a plain object (an input or a patch), else a ValidationError naming `field`. */
export function plainObject(entity: string, value: unknown, field = 'input'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date)
    fail(entity, field, 'an object', value);
  return value as Record<string, unknown>;
}

/** Every field must be a string: the first that is not is named. */
export function requireText(entity: string, fields: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(fields))
    if (typeof value !== 'string') fail(entity, field, 'a string', value);
}

/** Each field may be absent (undefined or null), else must be a string. */
export function optionalText(entity: string, fields: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(fields))
    if (value != null && typeof value !== 'string') fail(entity, field, 'a string', value);
}

/** Each field may be absent (undefined or null), else must be a plain JSON object. */
export function optionalObject(entity: string, fields: Record<string, unknown>): void {
  for (const [field, value] of Object.entries(fields)) if (value != null) jsonObject(entity, value, field);
}

/**
 * `value` as a plain object that JSON can hold (a jsonb column's), else a ValidationError
 * naming `field`: a BigInt or a cycle inside made postgres.js's serializer throw a TypeError.
 */
export function jsonObject(entity: string, value: unknown, field: string): Record<string, unknown> {
  const object = plainObject(entity, value, field);
  try {
    JSON.stringify(object);
  } catch (error) {
    throw new ValidationError(
      `${entity}: ${field} cannot be stored as JSON (${error instanceof Error ? error.message : String(error)})`,
      { field },
    );
  }
  return object;
}

/** True when every value is text that could name a row (a string without NUL); lookups answer "missing" otherwise. */
export function textKeys(...values: unknown[]): boolean {
  return values.every((value) => typeof value === 'string' && !value.includes('\0'));
}

/** A method's options: absent (undefined or null) is {}, else a plain object. */
export function optionsOf<T extends object>(entity: string, value: T | null | undefined): T {
  return (value == null ? {} : plainObject(entity, value, 'options')) as T;
}

/** A key as an error message shows it: text as is, anything else by its kind (never a throwing String()). */
export function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value == null)
    return String(value);
  return `(${kind(value)})`;
}
