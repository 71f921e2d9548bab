/**
 * The record of applied seed sets (pgstore.applied_seeds), and running a user's seed SQL.
 */
import { guard } from '../map-error.js';
import type { Queryable } from '../queryable.js';

const CTX = { entity: 'seed' };

export interface AppliedSeed {
  name: string;
  sha256: string;
  appliedAt: Date;
  details: Record<string, unknown>;
}

/** The record of a seed set, or null when it was never applied. */
export async function getAppliedSeed(sql: Queryable, name: string): Promise<AppliedSeed | null> {
  return guard(CTX, async () => {
    const [row] = await sql<{ name: string; sha256: string; applied_at: Date; details: Record<string, unknown> }[]>`
      select name, sha256, applied_at, details from pgstore.applied_seeds where name = ${name}`;
    return row ? { name: row.name, sha256: row.sha256, appliedAt: row.applied_at, details: row.details } : null;
  });
}

/** Records (or re-records) a seed set as applied now. */
export async function recordSeed(
  sql: Queryable,
  name: string,
  sha256: string,
  details: Record<string, unknown>,
): Promise<void> {
  await guard(
    CTX,
    () => sql`
    insert into pgstore.applied_seeds (name, sha256, details) values (${name}, ${sha256}, ${sql.json(details as never)})
    on conflict (name) do update set sha256 = excluded.sha256, details = excluded.details, applied_at = now()`,
  );
}

/** Runs a file of SQL statements (simple query protocol: several statements, no parameters). */
export async function runSqlText(sql: Queryable, text: string): Promise<void> {
  await sql.unsafe(text);
}
