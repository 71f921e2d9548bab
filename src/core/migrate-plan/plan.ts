/**
 * `pgstore migrate plan [--rehearse [BACKUP]]`: the pending migrations with their SQL, lint
 * findings and the locks their statements take (from the statement kinds); with --rehearse,
 * the backup restored into a scratch database and the migrations applied there one at a time,
 * each timed, with the relation locks its transaction held read from pg_locks before it
 * commits. The scratch database is dropped afterwards, also on failure or a stop signal; the
 * live database is only read (its pending list).
 */
import { readFileSync } from 'node:fs';
import { withPool } from '../../db/pool.js';
import { applyUpSection } from '../../store/admin/index.js';
import { existsSync } from 'node:fs';
import {
  appliedIn,
  appMigrationsDir,
  lintEach,
  type MigrateOptions,
  type MigrationFile,
  migrationStatus,
  openMigrationSession,
  pgstoreSet,
  readMigrations,
  RUNNER_SETS,
  type SetName,
  statementLocks,
  withScratchDatabase,
} from '../migrate/index.js';
import { restore } from '../restore/index.js';
import { sqlErrorText, statementsOf, upSection } from '../sql-statements.js';
import type { MigrationPlan, PlannedMigration, RehearsedMigration, Rehearsal } from '../../types/migrate-plan.js';

export type { MigrationPlan, PlannedMigration, RehearsedMigration, Rehearsal } from '../../types/migrate-plan.js';

export interface PlanOptions extends MigrateOptions {
  /** Rehearse on this backup (latest | ID | path); undefined: no rehearsal. */
  rehearse?: string | undefined;
  /** The backup folder (default as for `pgstore backup`). */
  backupDir?: string | undefined;
}

/** The pending migrations of the target, and optionally their rehearsal on a backup. */
export async function planMigrations(options: PlanOptions): Promise<MigrationPlan> {
  const status = await migrationStatus(options);
  // Each set's files, pgstore's first (the order `migrate up` applies them in).
  const appDir = appMigrationsDir(options.migrationsDir, options.env).dir;
  const filesOf: Record<SetName, MigrationFile[]> = {
    pgstore: pgstoreSet().files,
    app: existsSync(appDir) ? readMigrations(appDir) : [],
  };
  const pendingFiles = status.pending.flatMap((p) => {
    const file = filesOf[p.set].find((f) => f.version === p.version);
    return file ? [{ set: p.set, file }] : [];
  });
  const pendingKeys = new Set(pendingFiles.map((p) => `${p.set}:${p.file.version}`));
  const linted = await lintEach(
    pendingFiles.map(({ file }) => ({ path: file.path, shownAs: file.filename })),
    RUNNER_SETS,
  );
  const pending = pendingFiles.map(({ set, file: f }, i): PlannedMigration => {
    const up = upSection(readFileSync(f.path, 'utf8'));
    const lead = /^(?:[ \t\r]*\n)*/.exec(up.sql)![0];
    return {
      set,
      version: f.version,
      filename: f.filename,
      transactional: up.transactional,
      sql: up.sql.slice(lead.length).trimEnd(),
      firstLine: lead.split('\n').length,
      findings: linted[i]!.findings,
      locks: statementLocks(statementsOf(up.sql)),
    };
  });
  const rehearsal = options.rehearse === undefined ? null : await rehearse(options, pendingKeys);
  return { database: status.database, pending, rehearsal };
}

async function rehearse(options: PlanOptions, pendingOnLive: Set<string>): Promise<Rehearsal> {
  const started = performance.now();
  // The live server, proven reachable; the scratch database lives there.
  const conn = await withPool(options.target, { max: 1, log: options.log }, async (_sql, conn) => conn);
  let result: Omit<Rehearsal, 'scratchDropped' | 'durationMs'> | undefined;
  await withScratchDatabase(conn, null, async (scratch) => {
    options.log?.(`Restoring backup ${options.rehearse} into scratch database ${scratch.name}...`);
    const restored = await restore({
      target: conn,
      env: options.env,
      log: options.log,
      source: options.rehearse!,
      dir: options.backupDir,
      targetDb: scratch.name,
      create: true,
      skipDamaged: options.rehearse === 'latest',
      migrationsDir: options.migrationsDir,
    });
    const session = await openMigrationSession({ ...options, target: scratch.conn, waitTimeoutSeconds: undefined });
    try {
      // What the backup lacks, set by set, pgstore's first: as `migrate up` would apply it.
      const toRun: Array<{ set: SetName; file: MigrationFile }> = [];
      for (const set of session.sets) {
        const done = new Set((await appliedIn(session.sql, set, session.pgstoreFiles)).map((m) => m.version));
        toRun.push(...set.files.filter((f) => !done.has(f.version)).map((file) => ({ set: set.name, file })));
      }
      const migrations: RehearsedMigration[] = [];
      let failed = false;
      for (const { set, file } of toRun) {
        const entry: RehearsedMigration = {
          set,
          version: file.version,
          filename: file.filename,
          pendingOnLive: pendingOnLive.has(`${set}:${file.version}`),
          status: 'not run',
          durationMs: null,
          locksHeld: null,
          error: null,
        };
        migrations.push(entry);
        if (failed) continue;
        options.log?.(`Rehearsing ${file.filename}...`);
        const t0 = performance.now();
        const up = upSection(readFileSync(file.path, 'utf8'));
        try {
          entry.locksHeld = await applyUpSection(session.sql, up);
          entry.status = 'applied';
        } catch (error) {
          entry.status = 'failed';
          entry.error = sqlErrorText(error, up.sql);
          failed = true;
        }
        entry.durationMs = Math.round(performance.now() - t0);
      }
      result = {
        backup: { id: restored.source.id, path: restored.source.path },
        scratchDatabase: scratch.name,
        migrations,
        ok: !failed,
        leftoversDropped: scratch.leftoversDropped,
      };
    } finally {
      await session.close();
    }
  });
  return { ...result!, scratchDropped: true, durationMs: Math.round(performance.now() - started) };
}
