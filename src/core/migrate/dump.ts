/**
 * `pgstore migrate dump`: the database schema as a SQL file, written atomically, with the
 * list of applied migrations at the end (as dbmate's dump has).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { makeDirs } from '../../util/make-dirs.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { withPool } from '../../db/pool.js';
import { qualified } from '../../store/admin/index.js';
import { setHistories } from './history.js';
import { appMigrationsDir, dbmateConfig, type SetName } from './sets.js';
import { serverIdentity } from '../../store/admin/index.js';
import { dumpSchemaSql } from '../../tools/pg-dump.js';
import type { CoreOptions } from '../options.js';

export interface DumpResult {
  path: string;
  bytes: number;
  migrations: number;
}

/** Dumps the schema of the target database to `output`. */
export async function dumpSchema(
  options: CoreOptions & { output: string; migrationsDir?: string | undefined },
): Promise<DumpResult> {
  return withPool(options.target, { max: 1, log: options.log }, async (sql, conn) => {
    const identity = await serverIdentity(sql);
    const histories = await setHistories(sql, conn, { env: options.env, migrationsDir: options.migrationsDir });
    const schema = await dumpSchemaSql(conn, Math.floor(identity.versionNum / 10000), options.env);
    // One INSERT per set, into the table that set is recorded in (as dbmate's dump has it).
    const inserts = histories
      .filter((h) => h.applied.length)
      .map((h) => {
        const versions = h.applied.map((m) => `    ('${m.version.replace(/'/g, "''")}')`).join(',\n');
        return `-- ${h.set.name} set\nINSERT INTO ${qualified(h.set.table)} (version) VALUES\n${versions};\n`;
      });
    const applied = histories.flatMap((h) => h.applied);
    const text = `${schema}\n--\n-- Applied migrations\n--\n\n${inserts.length ? inserts.join('\n') : '-- none\n'}`;
    const path = resolve(options.output);
    writeFileAtomic(path, text);
    return { path, bytes: Buffer.byteLength(text), migrations: applied.length };
  });
}

export interface AutoDumpOptions extends CoreOptions {
  migrationsDir?: string | undefined;
  set?: SetName | undefined;
  /** --no-dump-schema (DBMATE_NO_DUMP_SCHEMA works too). */
  dumpSchema?: boolean;
}

/**
 * dbmate writes its schema file (DBMATE_SCHEMA_FILE, default ./db/schema.sql, relative to the
 * working folder) after every `migrate` and `rollback`; pgstore does the same after `migrate up`
 * and `down` of a project's migrations, unless --no-dump-schema or DBMATE_NO_DUMP_SCHEMA.
 * Returns the file written, or null when there is nothing to do (no app set, or disabled).
 */
export async function autoDumpSchema(options: AutoDumpOptions): Promise<string | null> {
  if (options.set === 'pgstore' || options.dumpSchema === false) return null;
  const config = dbmateConfig(options.env);
  if (config.noDumpSchema) return null;
  const { dir, explicit } = appMigrationsDir(options.migrationsDir, options.env);
  if (!explicit && !existsSync(dir)) return null;
  const output = resolve(config.schemaFile ?? 'db/schema.sql');
  makeDirs(dirname(output));
  const result = await dumpSchema({ ...options, output });
  return result.path;
}
