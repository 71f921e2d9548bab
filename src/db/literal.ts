/**
 * A string as an SQL literal (E'...', the same whatever standard_conforming_strings says), for
 * queries sent without parameters: postgres.js sends a query with parameters that is not yet
 * prepared as two round trips (describe, then execute) and pipelines nothing behind it, so a
 * query run once per process is one round trip cheaper with its value inline.
 */
export function sqlLiteral(text: string): string {
  return `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
