/**
 * The environment marker: whether a database serves development, test or production.
 */
import type { Db } from '../../db/pool.js';

export const ENVIRONMENTS = ['development', 'test', 'production'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** The database's environment, or null when it was never marked (or is not migrated). */
export async function getEnvironment(sql: Db): Promise<EnvironmentName | null> {
  const [exists] = await sql<{ t: string | null }[]>`select to_regclass('pgstore.environment')::text as t`;
  if (!exists?.t) return null;
  const [row] = await sql<{ name: EnvironmentName }[]>`select name from pgstore.environment`;
  return row?.name ?? null;
}

/** Marks the database; returns the previous marker. */
export async function setEnvironment(sql: Db, name: EnvironmentName): Promise<EnvironmentName | null> {
  const [row] = await sql<{ previous: EnvironmentName | null }[]>`
    with previous as (select name from pgstore.environment)
    insert into pgstore.environment (singleton, name) values (true, ${name})
    on conflict (singleton) do update set name = excluded.name, set_at = now(), set_by = current_user
    returning (select name from previous) as previous`;
  return row?.previous ?? null;
}
