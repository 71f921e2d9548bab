/**
 * `pgstore migrate up | down`: dbmate's files applied with dbmate's semantics (by pgstore
 * itself, apply-direct.ts, or by the dbmate binary with --engine dbmate, apply.ts), with what
 * dbmate lacks: a lock so that
 * concurrent runs apply each migration once, pre-flight checks of the files, checksums of
 * what was applied, lock timeouts with retry, and a clear report when a migration fails.
 * Two sets: pgstore's own schema first, then the application's (see migration-sets.ts).
 */
import { describeTarget } from '../../db/config.js';
import { UsageError } from '../../errors.js';
import { getEnvironment } from '../../store/admin/index.js';
import {
  type AppliedMigration,
  ensureAndReadMigrationLogs,
  LEGACY_TABLE,
  legacyPgstoreRows,
  type MigrationLogState,
  migrationLogStates,
  moveLegacyPgstoreRows,
  pgstoreRowsAmong,
  qualified,
} from '../../store/admin/index.js';
import { type ApplyReport, dropLeftovers, runSet } from './apply.js';
import { runSetDirect, runsDirect } from './apply-direct.js';
import {
  appliedIn,
  historyTables,
  locked,
  type MigrateOptions,
  type MigrationSession,
  openMigrationSession,
  sameTable,
} from './session.js';
import { findDrift, type MigrationFile } from './files.js';
import { resolveDbmateSoon } from '../../tools/dbmate.js';
import type { MigrationSet } from './sets.js';
import { type Confirm, guardProduction } from '../options.js';
import { plural } from '../../util/format.js';

export { MigrationFailedError, type RetryEvent } from './apply.js';
export { MIGRATION_LOCK, type MigrateOptions, type MigrationSession, openMigrationSession } from './session.js';

export interface MigrationRef {
  set: 'pgstore' | 'app';
  version: string;
  name: string;
  filename: string;
}

export interface MigrateResult extends ApplyReport {
  database: string;
  applied: MigrationRef[];
  rolledBack: MigrationRef[];
  /** pgstore's rows moved out of public.schema_migrations (a database migrated before sets). */
  upgradedRows: number;
  durationMs: number;
}

const ref = (set: MigrationSet, f: MigrationFile): MigrationRef => ({
  set: set.name,
  version: f.version,
  name: f.name,
  filename: f.filename,
});

/** Moves pgstore's rows out of the legacy table (once, under the lock). */
async function upgradeLegacy(
  session: MigrationSession,
  options: MigrateOptions,
  legacy?: AppliedMigration[],
): Promise<number> {
  const moved = await moveLegacyPgstoreRows(
    session.sql,
    legacy ?? (await legacyPgstoreRows(session.sql, session.pgstoreFiles)),
  );
  if (moved)
    options.log?.(
      `Moved ${plural(moved, 'record')} of pgstore's own migrations from public.schema_migrations to public.pgstore_schema_migrations.`,
    );
  return moved;
}

/** Applies every pending migration: pgstore's set, then the app's. */
export async function migrateUp(options: MigrateOptions): Promise<MigrateResult> {
  const started = performance.now();
  const session = await openMigrationSession(options, true);
  const report: ApplyReport = { retries: [], droppedInvalidIndexes: [] };
  const applied: MigrationRef[] = [];
  try {
    const present = session.sets.filter((s) => s.present);
    const tables = historyTables(present);
    // The connection's first round trip tried the lock and read the states of the tables it
    // expected; they are used only if they are these (SET ROLE or the schema may move the app's).
    const early = session.early;
    const same = early?.tables.length === tables.length && early.tables.every((t, i) => sameTable(t, tables[i]!));
    const tried = early && { locked: early.locked, prefetched: same ? early.states : undefined };
    // Which history tables exist is read alongside the lock (stale only in that a table may
    // have appeared since: then its creation is a no-op); their rows are read under it.
    const upgradedRows = await locked(
      session,
      options,
      async (states) => {
        // Each set's history (created where missing) and the legacy table, in one round trip;
        // dbmate's binary is looked up meanwhile (off the way from the checks to its start).
        const reading = readHistories(session, present, states);
        if (present.some((set) => !runsDirect(session, set))) resolveDbmateSoon();
        let rows = await reading;
        const moved = await upgradeLegacy(
          session,
          options,
          pgstoreRowsAmong(rows.get(qualified(LEGACY_TABLE)) ?? [], session.pgstoreFiles),
        );
        if (moved) rows = await readHistories(session, present); // rows moved: read again
        // Every set is checked before any is applied.
        const plans = [];
        for (const set of present) {
          // upgradeLegacy moved pgstore's rows out of the legacy table: none are left there.
          const before = await appliedIn(session.sql, set, session.pgstoreFiles, {
            rows: rows.get(qualified(set.table)) ?? [],
            legacy: [],
          });
          const done = new Set(before.map((m) => m.version));
          const pending = set.files.filter((f) => !done.has(f.version));
          if (session.strict) checkStrict(set, before, pending);
          plans.push({ set, pending });
        }
        await options.beforeApply?.(
          plans.map((p) => ({ set: p.set, files: p.pending })),
          { strict: session.strict },
        );
        const total = plans.reduce((n, p) => n + p.pending.length, 0);
        let done = 0;
        options.progress?.({ done, total });
        for (const { set, pending } of plans) {
          if (pending.length === 0) continue;
          await dropLeftovers(session, pending, options, report);
          const onApplied = async (files: MigrationFile[]) => {
            applied.push(...files.map((f) => ref(set, f)));
          };
          const onEach = options.progress
            ? (file: MigrationFile) =>
                options.progress?.({ done: ++done, total, set: set.name, filename: file.filename })
            : undefined;
          const direct =
            runsDirect(session, set) &&
            (await runSetDirect(session, set, 'migrate', pending, options, report, onApplied, onEach));
          if (!direct) await runSet(session, set, 'migrate', options, report, onApplied, onEach);
        }
        return moved;
      },
      () => migrationLogStates(session.sql, tables),
      tried,
    );
    return {
      database: session.conn.database,
      applied,
      rolledBack: [],
      upgradedRows,
      ...report,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await session.close();
  }
}

/**
 * The rows of each set's history table (created where missing) and of the legacy table, by
 * qualified name: one query for what exists, one that creates what is missing and reads.
 */
async function readHistories(
  session: MigrationSession,
  sets: MigrationSet[],
  known?: MigrationLogState[],
): Promise<Map<string, AppliedMigration[]>> {
  const states = known ?? (await migrationLogStates(session.sql, historyTables(sets)));
  const rows = await ensureAndReadMigrationLogs(
    session.sql,
    states,
    sets.map((s) => s.table),
  );
  return new Map(states.map((s, i) => [qualified(s.table), rows[i] ?? []]));
}

export interface MigrateDownOptions extends MigrateOptions {
  /** Roll back this many migrations (default 1). */
  steps?: number | undefined;
  /** Roll back every migration newer than this version ('0' for all). */
  to?: string | undefined;
  /** Asked before anything is rolled back. */
  confirm?: Confirm;
  /** Allow rolling back a database marked production. */
  forceProduction?: boolean;
}

/** Rolls back the newest migration(s) of one set: the app's when its folder exists, else pgstore's (or --set). */
export async function migrateDown(options: MigrateDownOptions): Promise<MigrateResult> {
  const started = performance.now();
  const session = await openMigrationSession(options);
  const report: ApplyReport = { retries: [], droppedInvalidIndexes: [] };
  const rolledBack: MigrationRef[] = [];
  try {
    const set = options.set
      ? session.sets[0]!
      : (session.sets.find((s) => s.name === 'app' && s.present) ?? session.sets[0]!);
    if (!set.present)
      throw new UsageError(`no application migrations folder: ${set.dir}`, {
        hint: "Pass --migrations-dir, or --set pgstore to roll back pgstore's own schema.",
      });
    const upgradedRows = await locked(session, options, async () => {
      const moved = await upgradeLegacy(session, options);
      const applied = await appliedIn(session.sql, set, session.pgstoreFiles);
      const victims = chooseVictims(applied, options);
      const byVersion = new Map(set.files.map((f) => [f.version, f]));
      const files = victims.map((m) => byVersion.get(m.version));
      const problems = victims.flatMap((m, i) => {
        const file = files[i];
        if (!file) return [`${m.version} has no file in ${set.dir}`];
        return file.hasDown ? [] : [`${file.filename} has no '-- migrate:down' section`];
      });
      if (problems.length)
        throw new UsageError(`cannot roll back (${set.name} set): ${problems.join('; ')}`, {
          hint: 'Nothing was rolled back.',
        });
      if (victims.length === 0) return moved;
      const plan = {
        action: `roll back ${plural(victims.length, 'migration')} of the ${set.name} set`,
        target: describeTarget(session.conn),
        environment: await getEnvironment(session.sql),
        details: (files as MigrationFile[]).map((f) => `${f.filename} (${set.name})`),
      };
      guardProduction(plan, options.forceProduction);
      await options.confirm?.(plan);
      const collect = (run: { rolledBack: string[] }) => {
        for (const name of run.rolledBack) {
          const file = set.files.find((f) => f.filename === name);
          if (file) rolledBack.push(ref(set, file));
        }
      };
      // pgstore's own runs take the files in order (a failure names those rolled back before
      // it); dbmate rolls back the newest applied one per run.
      const direct =
        runsDirect(session, set) &&
        (await runSetDirect(
          session,
          set,
          'rollback',
          files as MigrationFile[],
          options,
          report,
          async () => undefined,
        ));
      if (direct) collect(direct);
      else
        for (let i = 0; i < victims.length; i++)
          collect(await runSet(session, set, 'rollback', options, report, async () => undefined));
      return moved;
    });
    return {
      database: session.conn.database,
      applied: [],
      rolledBack,
      upgradedRows,
      ...report,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await session.close();
  }
}

function chooseVictims(applied: AppliedMigration[], options: MigrateDownOptions): AppliedMigration[] {
  const newestFirst = [...applied].reverse();
  if (options.to !== undefined) {
    if (options.to !== '0' && !applied.some((m) => m.version === options.to)) {
      throw new UsageError(`--to ${options.to}: no applied migration has that version`, {
        hint: 'See `pgstore migrate status`; use --to 0 to roll back everything.',
      });
    }
    return newestFirst.filter((m) => m.version > options.to!);
  }
  const steps = options.steps ?? 1;
  if (steps > applied.length) {
    throw new UsageError(
      `--steps ${steps}: only ${plural(applied.length, 'migration')} ${applied.length === 1 ? 'is' : 'are'} applied`,
      { hint: 'Nothing was rolled back.' },
    );
  }
  return newestFirst.slice(0, steps);
}

function checkStrict(set: MigrationSet, applied: AppliedMigration[], pending: MigrationFile[]): void {
  const newest = applied.at(-1)?.version;
  const older = newest ? pending.filter((f) => f.version < newest) : [];
  const drift = findDrift(set.files, applied);
  const problems = [
    ...older.map((f) => `${f.filename} is pending but older than the newest applied migration ${newest}`),
    ...drift.map(
      (d) =>
        `${d.filename} was ${d.problem === 'edited' ? 'edited after it was applied' : 'applied but its file is missing'}`,
    ),
  ];
  if (problems.length) {
    throw new UsageError(`--strict (${set.name} set): ${problems.join('; ')}`, {
      hint: 'Nothing was applied. Rename the file to a newer version, or restore the applied file.',
    });
  }
}
