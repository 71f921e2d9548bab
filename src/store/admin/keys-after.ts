/**
 * Keys and indexes built after a bulk load: when a table starts empty, its indexes (those
 * behind its primary key and unique constraints too, unless a foreign key depends on them)
 * are dropped first and built again afterwards, in the same transaction: one sorted build
 * over 1M rows costs a fraction of 1M incremental inserts. A duplicate is still refused, when
 * the constraint comes back, and the whole transaction with it.
 *
 * In two steps (dropKeys, then keysSql/buildKeys) so a load can have the server build one
 * table's indexes while it prepares the next table's rows (new-hosts-load.ts).
 */
import { PgstoreError } from '../../errors.js';
import type { Tx } from '../copy.js';

/** What dropKeys took away from a table, to be built again. */
export interface DroppedKeys {
  table: string;
  keys: { name: string; def: string }[];
  indexes: { name: string; def: string }[];
}

/** Drops `table`'s keys and indexes when it is empty (else drops nothing). `table` is a trusted constant. */
export async function dropKeys(tx: Tx, table: string): Promise<DroppedKeys> {
  const dropped: DroppedKeys = { table, keys: [], indexes: [] };
  const [state] = await tx.unsafe<{ empty: boolean }[]>(`select not exists (select 1 from ${table}) as empty`);
  if (!state?.empty) return dropped;
  dropped.keys = await tx.unsafe<{ name: string; def: string }[]>(
    `select quote_ident(c.conname) as name, pg_get_constraintdef(c.oid) as def
       from pg_constraint c
      where c.conrelid = '${table}'::regclass and c.contype in ('p', 'u')
        and not exists (select 1 from pg_constraint f where f.contype = 'f' and f.conindid = c.conindid)
      order by c.conname`,
  );
  dropped.indexes = await tx.unsafe<{ name: string; def: string }[]>(
    `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
       from pg_index i
      where i.indrelid = '${table}'::regclass
        and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
      order by 1`,
  );
  const drops = [
    ...(dropped.keys.length
      ? [`alter table ${table} ${dropped.keys.map((k) => `drop constraint ${k.name}`).join(', ')}`]
      : []),
    ...dropped.indexes.map((index) => `drop index ${index.name}`),
  ];
  if (drops.length) await tx.unsafe(drops.join(';\n'));
  return dropped;
}

/** The statements that build `dropped` again, as one text (run it with buildKeys). */
export function keysSql(dropped: DroppedKeys): string {
  const { table, keys, indexes } = dropped;
  return [
    ...(keys.length ? [`alter table ${table} ${keys.map((k) => `add constraint ${k.name} ${k.def}`).join(', ')}`] : []),
    ...indexes.map((index) => index.def),
  ].join(';\n');
}

/**
 * Builds the keys and indexes of `dropped` again, in one round trip (sent at once: the
 * caller may work while the server builds); a repeated key becomes one clear error.
 */
export async function buildKeys(tx: Tx, dropped: readonly DroppedKeys[], hint?: string): Promise<void> {
  const text = dropped.map(keysSql).filter(Boolean).join(';\n');
  if (!text) return;
  try {
    await tx.unsafe(text);
  } catch (error) {
    if ((error as { code?: string }).code !== '23505') throw error;
    const table = (error as { table_name?: string; schema_name?: string }).table_name;
    const where = dropped.find((d) => d.table.endsWith(`.${table}`))?.table ?? dropped.map((d) => d.table).join(', ');
    throw new PgstoreError(
      `the rows loaded into ${where} repeat a unique key (${(error as { constraint_name?: string }).constraint_name ?? 'a primary or unique key'})`,
      { hint, cause: error },
    );
  }
}

/** Runs a bulk `load` into `table`, its keys and indexes dropped before and built after when it starts empty. */
export async function withKeysBuiltAfter(
  tx: Tx,
  table: string,
  hint: string,
  load: () => Promise<void>,
): Promise<void> {
  const dropped = await dropKeys(tx, table);
  await load();
  await buildKeys(tx, [dropped], hint);
}
