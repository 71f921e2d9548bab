/**
 * What Citus would look at when tables are distributed, read from pg_catalog: the tables of
 * the database's own schemas, their unique indexes, foreign keys and row triggers. Reads only.
 */
import type { Queryable } from '../queryable.js';

export interface CatalogTable {
  /** schema.table */
  name: string;
  /** Column names, in order. */
  columns: string[];
}

export interface CatalogUniqueIndex {
  table: string;
  index: string;
  /** 'primary key', 'unique constraint', 'unique index' or 'exclusion constraint'. */
  kind: string;
  /** Plain key columns (expressions are left out: Citus needs the distribution column as a plain column). */
  columns: string[];
  definition: string;
}

export interface CatalogForeignKey {
  table: string;
  constraint: string;
  /** Referencing columns, in the key's order. */
  columns: string[];
  references: string;
  /** Referenced columns, in the key's order (pairs with `columns`). */
  referencedColumns: string[];
  /** pg_constraint.confdeltype / confupdtype: a no action, r restrict, c cascade, n set null, d set default. */
  onDelete: string;
  onUpdate: string;
}

export interface CatalogRowTrigger {
  table: string;
  trigger: string;
  definition: string;
}

export interface CitusCatalog {
  database: string;
  tables: CatalogTable[];
  uniqueIndexes: CatalogUniqueIndex[];
  foreignKeys: CatalogForeignKey[];
  rowTriggers: CatalogRowTrigger[];
}

/** Schemas that are PostgreSQL's, not the database's (extensions' own objects are left out too). */
const OWN_NAMESPACES = `
  select n.oid from pg_namespace n
   where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
     and n.nspname not like 'pg\\_temp\\_%' and n.nspname not like 'pg\\_toast\\_temp\\_%'`;

/** Ordinary and partitioned tables that no extension owns (partitions follow their parent). */
const OWN_TABLES = `
  select c.oid from pg_class c
   where c.relnamespace in (${OWN_NAMESPACES})
     and c.relkind in ('r', 'p') and not c.relispartition
     and not exists (select 1 from pg_depend d
                      where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')`;

const qualifiedName = (oid: string) =>
  `format('%s.%s', (select nspname from pg_namespace where oid = (select relnamespace from pg_class where oid = ${oid})), (select relname from pg_class where oid = ${oid}))`;

/** The catalog facts Citus checks when a table is distributed, for every table of the database's own schemas. */
export async function readCitusCatalog(sql: Queryable): Promise<CitusCatalog> {
  const [row] = await sql<{ database: string }[]>`select current_database() as database`;
  const database = row!.database;
  const tables = await sql.unsafe<CatalogTable[]>(`
    select ${qualifiedName('c.oid')} as name,
           coalesce((select array_agg(a.attname::text order by a.attnum) from pg_attribute a
                      where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '{}') as columns
      from pg_class c where c.oid in (${OWN_TABLES})
     order by 1`);
  const uniqueIndexes = await sql.unsafe<CatalogUniqueIndex[]>(`
    select ${qualifiedName('i.indrelid')} as table, ic.relname as index,
           case when i.indisprimary then 'primary key'
                when con.contype = 'x' then 'exclusion constraint'
                when con.contype = 'u' then 'unique constraint'
                else 'unique index' end as kind,
           coalesce((select array_agg(a.attname::text order by k.n)
                       from unnest(i.indkey[0:i.indnkeyatts - 1]) with ordinality as k(attnum, n)
                       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                      where k.attnum <> 0), '{}') as columns,
           pg_get_indexdef(i.indexrelid) as definition
      from pg_index i
      join pg_class ic on ic.oid = i.indexrelid
      left join pg_constraint con on con.conindid = i.indexrelid and con.conrelid = i.indrelid and con.contype in ('p', 'u', 'x')
     where i.indrelid in (${OWN_TABLES}) and (i.indisunique or i.indisexclusion)
     order by 1, 2`);
  const foreignKeys = await sql.unsafe<CatalogForeignKey[]>(`
    select ${qualifiedName('con.conrelid')} as table, con.conname as constraint,
           (select array_agg(a.attname::text order by k.n) from unnest(con.conkey) with ordinality as k(attnum, n)
              join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) as columns,
           ${qualifiedName('con.confrelid')} as references,
           (select array_agg(a.attname::text order by k.n) from unnest(con.confkey) with ordinality as k(attnum, n)
              join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum) as "referencedColumns",
           con.confdeltype as "onDelete", con.confupdtype as "onUpdate"
      from pg_constraint con
     where con.contype = 'f' and (con.conrelid in (${OWN_TABLES}) or con.confrelid in (${OWN_TABLES}))
       and con.conparentid = 0
     order by 1, 2`);
  // tgtype bit 0 (1): FOR EACH ROW. Internal triggers (those of foreign keys) are not the user's.
  const rowTriggers = await sql.unsafe<CatalogRowTrigger[]>(`
    select ${qualifiedName('t.tgrelid')} as table, t.tgname as trigger, pg_get_triggerdef(t.oid) as definition
      from pg_trigger t
     where t.tgrelid in (${OWN_TABLES}) and not t.tgisinternal and (t.tgtype & 1) = 1
     order by 1, 2`);
  return {
    database,
    tables: [...tables],
    uniqueIndexes: [...uniqueIndexes],
    foreignKeys: [...foreignKeys],
    rowTriggers: [...rowTriggers],
  };
}
