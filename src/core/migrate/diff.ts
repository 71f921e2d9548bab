/**
 * `pgstore migrate diff`: drift between the migration files and the live database. A scratch
 * database (created like the live one: owner, encoding, locale) is migrated from the files
 * with the real runner, both schemas are dumped (pg_dump --schema-only, without owners and
 * privileges) and compared object by object after normalising: comments, SET lines and psql
 * meta-commands dropped, whitespace collapsed, a table's column and constraint lines compared
 * as a set (their order is not drift). The scratch database is always dropped.
 */
import { withAdminSql, withPool } from '../../db/pool.js';
import { createDatabaseFrom, databaseProperties } from '../../store/admin/index.js';
import { serverIdentity } from '../../store/admin/index.js';
import { dumpSchemaSql } from '../../tools/pg-dump.js';
import { UsageError } from '../../errors.js';
import { type MigrateOptions, migrateUp } from './migrate.js';
import { withScratchDatabase } from './scratch-db.js';

export interface ChangedObject {
  object: string;
  /** Normalised lines only the live database has, and only the files produce. */
  onlyInLive: string[];
  onlyInFiles: string[];
}

export interface SchemaDiff {
  database: string;
  equal: boolean;
  /** Objects (e.g. "TABLE public.widgets") in the live database that the files do not create. */
  onlyInLive: string[];
  /** Objects the files create that the live database lacks. */
  onlyInFiles: string[];
  changed: ChangedObject[];
  /** Migrations applied to the scratch database, which is dropped before this returns. */
  migrationsApplied: number;
  scratchDatabase: string;
  leftoversDropped: string[];
}

/** Compares the live schema with the schema the migration files produce. */
export async function diffSchema(options: MigrateOptions): Promise<SchemaDiff> {
  const { conn, major, live } = await withPool(options.target, { max: 1, log: options.log }, async (sql, conn) => {
    const major = Math.floor((await serverIdentity(sql)).versionNum / 10000);
    return { conn, major, live: await dumpSchemaSql(conn, major, options.env) };
  });
  const props = await withAdminSql(conn, (s) => databaseProperties(s, conn.database));
  if (!props) throw new UsageError(`database ${conn.database} does not exist`);
  const createLike = (admin: typeof conn, name: string) =>
    withAdminSql(admin, (s) => createDatabaseFrom(s, name, props));
  return withScratchDatabase(conn, createLike, async (scratch) => {
    options.log?.(`Migrating scratch database ${scratch.name} from the files...`);
    const applied = await migrateUp({
      ...options,
      target: scratch.conn,
      lock: false,
      strict: false,
      waitTimeoutSeconds: undefined,
    });
    const fromFiles = await dumpSchemaSql(scratch.conn, major, options.env);
    return {
      database: conn.database,
      ...compareDumps(live, fromFiles),
      migrationsApplied: applied.applied.length,
      scratchDatabase: scratch.name,
      leftoversDropped: scratch.leftoversDropped,
    };
  });
}

/** The object-by-object comparison of two pg_dump --schema-only texts. */
export function compareDumps(
  live: string,
  files: string,
): Pick<SchemaDiff, 'equal' | 'onlyInLive' | 'onlyInFiles' | 'changed'> {
  const a = schemaObjects(live);
  const b = schemaObjects(files);
  const onlyInLive = [...a.keys()].filter((k) => !b.has(k)).sort();
  const onlyInFiles = [...b.keys()].filter((k) => !a.has(k)).sort();
  const changed: ChangedObject[] = [];
  for (const [key, lines] of a) {
    const other = b.get(key);
    if (!other) continue;
    const inB = new Set(other);
    const inA = new Set(lines);
    const la = lines.filter((l) => !inB.has(l));
    const lb = other.filter((l) => !inA.has(l));
    if (la.length || lb.length) changed.push({ object: key, onlyInLive: la, onlyInFiles: lb });
    else if (lines.join('\n') !== other.join('\n'))
      changed.push({ object: key, onlyInLive: ['(the same lines in another order)'], onlyInFiles: [] });
  }
  changed.sort((x, y) => x.object.localeCompare(y.object));
  return { equal: !onlyInLive.length && !onlyInFiles.length && !changed.length, onlyInLive, onlyInFiles, changed };
}

const HEADER = /^-- Name: (.+?); Type: (.+?); Schema: (.+?); Owner: .*$/;

/** "TYPE schema.name" → the object's normalised lines. */
export function schemaObjects(dump: string): Map<string, string[]> {
  const objects = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const raw of dump.split('\n')) {
    const header = HEADER.exec(raw);
    if (header) {
      const [, name, type, schema] = header as unknown as [string, string, string, string];
      const key = `${type} ${schema === '-' ? '' : `${schema}.`}${name}`;
      current = objects.get(key) ?? [];
      objects.set(key, current);
      continue;
    }
    const line = raw.replace(/\s+/g, ' ').trim();
    if (!current || !line || line.startsWith('--') || line.startsWith('\\')) continue;
    if (/^SET \w+ = /.test(line) || /^SELECT pg_catalog\.set_config\(/.test(line)) continue;
    if (/ OWNER TO /.test(line)) continue;
    // A trailing comma is not drift; nor is the order of a table's column lines (sorted below).
    current.push(line.replace(/,$/, ''));
  }
  for (const [key, lines] of objects) if (key.startsWith('TABLE ')) objects.set(key, [...lines].sort());
  return objects;
}
