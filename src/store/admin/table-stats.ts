/**
 * Exact per-table row counts and the snapshot a backup is taken in, so that the counts in a
 * backup's manifest describe exactly the data pg_dump wrote.
 */
import { guard } from '../map-error.js';
import type { Queryable } from '../queryable.js';

export interface TableRows {
  schema: string;
  name: string;
  rows: number;
}

const ctx = { entity: 'table statistics' };

/**
 * Exports the snapshot of the current (repeatable read) transaction for `pg_dump --snapshot`.
 * The transaction must stay open until pg_dump has started.
 */
export async function exportSnapshot(sql: Queryable): Promise<string> {
  return guard(ctx, async () => {
    const [row] = await sql<{ id: string }[]>`select pg_export_snapshot() as id`;
    return row!.id;
  });
}

/**
 * Every table whose rows pg_dump writes (ordinary tables and partitions, logged or not; not
 * partitioned parents, views, foreign tables or extension-owned tables), with an exact count,
 * ordered by schema and name. One round trip: the counts run on the server.
 */
export async function tableRowCounts(sql: Queryable): Promise<TableRows[]> {
  return guard(ctx, async () => {
    const rows = await sql<{ schema: string; name: string; rows: string }[]>`
      select n.nspname as schema, c.relname as name,
             (xpath('/row/n/text()',
                    query_to_xml(format('select count(*) as n from %I.%I', n.nspname, c.relname), false, true, '')))[1]::text as rows
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
       where c.relkind = 'r' and c.relpersistence <> 't'
         and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)'
         and not exists (select 1 from pg_depend d
                          where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
       order by n.nspname collate "C", c.relname collate "C"`;
    return rows.map((r) => ({ schema: r.schema, name: r.name, rows: Number(r.rows) }));
  });
}

/** Size in pages of each given table that exists (missing tables are left out). */
export async function tablePages(
  sql: Queryable,
  tables: Array<{ schema: string; name: string }>,
): Promise<Array<{ schema: string; name: string; pages: number }>> {
  if (tables.length === 0) return [];
  return guard(ctx, async () => {
    const rows = await sql<{ schema: string; name: string; pages: string }[]>`
      select t.schema, t.name, (pg_relation_size(r.oid) / current_setting('block_size')::int)::text as pages
        from jsonb_to_recordset(${sql.json(tables as never)}) as t(schema text, name text)
        join lateral (select to_regclass(format('%I.%I', t.schema, t.name)) as oid) r on r.oid is not null`;
    return rows.map((r) => ({ schema: r.schema, name: r.name, pages: Number(r.pages) }));
  });
}

/**
 * Exact count of a table's rows, or of the rows in pages [fromPage, toPage) (a TID range scan,
 * PostgreSQL 14+), so that one large table can be counted on several connections at once.
 */
export async function countRows(
  sql: Queryable,
  table: { schema: string; name: string },
  range?: { fromPage: number; toPage: number | null },
): Promise<number> {
  const name = `${ident(table.schema)}.${ident(table.name)}`;
  return guard(ctx, async () => {
    let where = '';
    if (range) {
      where = ` where ctid >= '(${Math.floor(range.fromPage)},0)'::tid`;
      if (range.toPage !== null) where += ` and ctid < '(${Math.floor(range.toPage)},0)'::tid`;
    }
    const [row] = await sql.unsafe<{ n: string }[]>(`select count(*)::text as n from ${name}${where}`);
    return Number(row!.n);
  });
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The newest applied migration version of pgstore's own set, or null when there is none. */
export async function newestMigrationVersion(sql: Queryable): Promise<string | null> {
  return guard(ctx, async () => {
    // pgstore's own set (public.pgstore_schema_migrations); a database migrated before
    // migration sets kept pgstore's versions in dbmate's public.schema_migrations.
    const [exists] = await sql<{ own: string | null; legacy: string | null }[]>`
      select to_regclass('public.pgstore_schema_migrations')::text as own, to_regclass('public.schema_migrations')::text as legacy`;
    const table = exists?.own ? 'public.pgstore_schema_migrations' : exists?.legacy ? 'public.schema_migrations' : null;
    if (!table) return null;
    const [row] = await sql.unsafe<{ version: string | null }[]>(`select max(version) as version from ${table}`);
    return row?.version ?? null;
  });
}

/** Whether the current database holds any user object (table, view, sequence, function, type). */
export async function databaseIsEmpty(sql: Queryable): Promise<boolean> {
  return guard(ctx, async () => {
    const [row] = await sql<{ empty: boolean }[]>`
      select not exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                          where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp_)')
         and not exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                          where n.nspname not in ('pg_catalog', 'information_schema'))
         and not exists (select 1 from pg_namespace n
                          where n.nspname not in ('pg_catalog', 'information_schema', 'public') and n.nspname !~ '^pg_') as empty`;
    return !!row?.empty;
  });
}
