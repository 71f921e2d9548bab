/**
 * The record of applied migrations: dbmate's table `public.schema_migrations`, which pgstore
 * extends with when each file was applied and its sha256 (to detect edited files). It stays in
 * public because dbmate points search_path at its table's schema (dbmate issue #429).
 */
import type { Db } from '../db/pool.js';

export const MIGRATIONS_TABLE = 'public.schema_migrations';

export interface AppliedMigration {
  version: string;
  appliedAt: Date | null;
  sha256: string | null;
  filename: string | null;
}

/** Creates the table (as dbmate would) and pgstore's extra columns, if missing. */
export async function ensureMigrationLog(sql: Db): Promise<void> {
  await sql.unsafe(`
    create table if not exists public.schema_migrations (version varchar(128) primary key);
    alter table public.schema_migrations
      add column if not exists applied_at timestamptz default now(),
      add column if not exists sha256 text,
      add column if not exists filename text;
  `);
}

/** Applied migrations, oldest first; empty when nothing was ever applied. */
export async function appliedMigrations(sql: Db): Promise<AppliedMigration[]> {
  const [exists] = await sql<{ table: string | null; extended: boolean }[]>`
    select to_regclass('public.schema_migrations')::text as table,
           exists (select 1 from pg_attribute
                    where attrelid = to_regclass('public.schema_migrations') and attname = 'sha256' and not attisdropped) as extended`;
  if (!exists?.table) return [];
  if (!exists.extended) {
    const rows = await sql<{ version: string }[]>`select version from public.schema_migrations order by version`;
    return rows.map((r) => ({ version: r.version, appliedAt: null, sha256: null, filename: null }));
  }
  const rows = await sql<{ version: string; applied_at: Date | null; sha256: string | null; filename: string | null }[]>`
    select version, applied_at, sha256, filename from public.schema_migrations order by version`;
  return rows.map((r) => ({ version: r.version, appliedAt: r.applied_at, sha256: r.sha256, filename: r.filename }));
}

/** Records the checksum and file name of applied migrations that have none yet. */
export async function recordChecksums(sql: Db, files: Array<{ version: string; sha256: string; filename: string }>): Promise<void> {
  if (files.length === 0) return;
  await sql`
    update public.schema_migrations m
       set sha256 = f.sha256, filename = f.filename, applied_at = coalesce(m.applied_at, now())
      from (select * from jsonb_to_recordset(${sql.json(files)}) as x(version text, sha256 text, filename text)) f
     where m.version = f.version and m.sha256 is null`;
}

/** Accepts edited files as they are now (after review): stores their current checksums. */
export async function acceptChecksums(sql: Db, files: Array<{ version: string; sha256: string; filename: string }>): Promise<number> {
  if (files.length === 0) return 0;
  const rows = await sql`
    update public.schema_migrations m set sha256 = f.sha256, filename = f.filename
      from (select * from jsonb_to_recordset(${sql.json(files)}) as x(version text, sha256 text, filename text)) f
     where m.version = f.version
    returning m.version`;
  return rows.length;
}
