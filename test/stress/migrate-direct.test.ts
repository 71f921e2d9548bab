/**
 * pgstore's own set, applied by pgstore itself (core/migrate/apply-direct.ts) rather than by
 * dbmate: its promises under a session killed at a random moment, and under concurrent runs.
 *
 * 1. Each round applies four files of the test's own (a history table of its own) on a
 *    migration session made as `migrate up` makes it, while another connection terminates that
 *    session's backend after a random delay (up to a little more than a whole run takes). Then,
 *    from a third connection: a file's history row exists only with all of its objects (and
 *    their rows), a transactional file has no object without its row, and no file after one
 *    left unapplied was applied. The `transaction:false` file (one statement) may be left
 *    applied without its row when the kill lands between its statement and its row (dbmate's
 *    semantics: db.go runs the section, then records it); such rounds are counted, not failed.
 * 2. Concurrent `migrate up` of pgstore's set on a new database: every run succeeds, the
 *    history table holds each version once with its checksum, and each file was applied by
 *    exactly one of the runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runSetDirect } from '../../src/core/migrate/apply-direct.js';
import type { ApplyReport } from '../../src/core/migrate/apply.js';
import { defaultMigrationsDir, type MigrationFile, readMigrations } from '../../src/core/migrate/files.js';
import { migrateUp, openMigrationSession } from '../../src/core/migrate/migrate.js';
import type { MigrationSet } from '../../src/core/migrate/sets.js';
import { ensureMigrationLog } from '../../src/store/admin/index.js';
import { coreOptions } from '../helpers/core-options.js';
import { createTestDatabase, emptyDatabases, type TestDatabase } from '../helpers/db.js';
import { rounds, separateConnections, together, tryPromise } from './harness.js';

const TABLE = { schema: 'public', name: 'stress_direct_migrations' };

/** The files of promise 1: each with its tables and how many rows each must hold when applied. */
const FILES: Array<{
  filename: string;
  up: string;
  options: string;
  tables: Record<string, number>;
  pidTable: string;
}> = [
  {
    filename: '0001_first.sql',
    up: `create table sd1a (x int);
insert into sd1a select generate_series(1, 40);
select pg_sleep(0.02);
create table sd1b (x int, pid int default pg_backend_pid());
insert into sd1b values (1), (2);
select pg_sleep(0.02);`,
    options: '',
    tables: { sd1a: 40, sd1b: 2 },
    pidTable: 'sd1b',
  },
  {
    filename: '0002_single.sql',
    up: 'create table sd2 as select g as x, pg_backend_pid() as pid from generate_series(1, 30) g, lateral (select pg_sleep(0.001)) s',
    options: ' transaction:false',
    tables: { sd2: 30 },
    pidTable: 'sd2',
  },
  {
    filename: '0003_third.sql',
    up: `create table sd3a (x int primary key);
select pg_sleep(0.02);
insert into sd3a select generate_series(1, 20);
create table sd3b (x int references sd3a, pid int default pg_backend_pid());
insert into sd3b values (1), (2), (3);
select pg_sleep(0.02);`,
    options: '',
    tables: { sd3a: 20, sd3b: 3 },
    pidTable: 'sd3b',
  },
  {
    // With 0003, a run of transactional files: they go out pipelined (runMigrationBatch).
    filename: '0004_fourth.sql',
    up: `create table sd4 (x int, pid int default pg_backend_pid());
insert into sd4 (x) select generate_series(1, 10);
select pg_sleep(0.02);`,
    options: '',
    tables: { sd4: 10 },
    pidTable: 'sd4',
  },
];
const ALL_TABLES = FILES.flatMap((f) => Object.keys(f.tables));

const emptyDatabase = emptyDatabases();
let db: TestDatabase;
let dir: string;
let files: MigrationFile[];
let checker: Awaited<ReturnType<typeof separateConnections>>;

beforeAll(async () => {
  db = await emptyDatabase();
  dir = mkdtempSync(join(tmpdir(), 'pgstore-stress-direct-'));
  for (const f of FILES)
    writeFileSync(join(dir, f.filename), `-- migrate:up${f.options}\n${f.up}\n\n-- migrate:down\n`);
  files = readMigrations(dir);
  checker = await separateConnections(db.url, 2);
});
afterAll(async () => {
  await checker?.end();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** How long a round's run may take before it counts as hung (a run takes ~0.1 s). */
const HUNG_MS = 5_000;

/**
 * Runs the direct runner on the files, terminating its backend after `killAfterMs` (if given).
 * `outcome` says how the run ended, or in which step it hung.
 */
async function runKilled(
  killAfterMs: number | undefined,
): Promise<{ outcome: string; killed: boolean; ms: number; pid: number }> {
  const [killer] = checker.pools;
  let step = 'openMigrationSession';
  let pid = 0;
  let killed = false;
  let ms = 0;
  const done: string[] = [];
  const run = (async () => {
    const session = await openMigrationSession({ ...coreOptions(db.url), set: 'pgstore' });
    try {
      step = 'ensureMigrationLog';
      await ensureMigrationLog(session.sql, TABLE);
      pid = (await session.sql<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid;
      const set: MigrationSet = { ...session.sets[0]!, dir, files, table: TABLE };
      const report: ApplyReport = { retries: [], droppedInvalidIndexes: [] };
      const kill =
        killAfterMs === undefined
          ? Promise.resolve()
          : new Promise((r) => setTimeout(r, killAfterMs)).then(async () => {
              killed = (await killer!<{ ok: boolean }[]>`select pg_terminate_backend(${pid}) as ok`)[0]!.ok;
            });
      step = 'runSetDirect';
      const started = performance.now();
      const outcome = await runSetDirect(
        session,
        set,
        'migrate',
        files,
        { ...coreOptions(db.url), retries: 0 },
        report,
        async () => undefined,
        (f) => done.push(f.version),
      ).then(
        (r) => `applied ${r.applied.length}`,
        (e: Error) => `${e.constructor.name}: ${e.message.split('\n')[0]}`,
      );
      ms = performance.now() - started;
      step = 'the kill';
      await kill;
      return outcome;
    } finally {
      step = 'session.close';
      await session.close().catch(() => undefined);
      step = 'done';
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((r) => {
    timer = setTimeout(async () => {
      // What the server sees of the database's other sessions then (a reconnect, a wait).
      const others = await checker.pools[1]!<{ pid: number; state: string; wait: string | null; query: string }[]>`
        select pid, state, wait_event as wait, left(query, 60) as query from pg_stat_activity
         where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`.catch(
        (e: Error) => e.message,
      );
      r(
        `hung in ${step} for ${HUNG_MS / 1000} s (files applied: ${done.join(',') || 'none'}; session ${pid}; server: ${JSON.stringify(others)})`,
      );
    }, HUNG_MS);
  });
  const outcome = await Promise.race([run, hung]).finally(() => clearTimeout(timer));
  return { outcome, killed, ms, pid };
}

/** What the database holds of each file, seen from a connection of its own. */
async function stateOfFiles() {
  const sql = checker.pools[1]!;
  const rows = new Map(
    (
      await sql.unsafe<{ version: string; sha256: string | null }[]>(
        `select version, sha256 from ${TABLE.schema}.${TABLE.name}`,
      )
    ).map((r) => [r.version, r.sha256]),
  );
  const present = new Set(
    (
      await sql<{ relname: string }[]>`select relname from pg_class
        where relname = any(${ALL_TABLES}) and relnamespace = 'public'::regnamespace and relkind = 'r'`
    ).map((r) => r.relname),
  );
  const counts = new Map<string, number>();
  for (const t of present)
    counts.set(t, (await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${t}`))[0]!.n);
  // The backends that wrote each file's rows (its table with a pid column).
  const pids = new Map<string, number[]>();
  for (const f of FILES)
    if (present.has(f.pidTable))
      pids.set(
        f.pidTable,
        (await sql.unsafe<{ pid: number }[]>(`select distinct pid from ${f.pidTable}`)).map((r) => r.pid),
      );
  return files.map((file, i) => {
    const expected = FILES[i]!.tables;
    const names = Object.keys(expected);
    const whole = names.every((t) => counts.get(t) === expected[t]);
    const none = names.every((t) => !present.has(t));
    const seen = names.map((t) => `${t}:${present.has(t) ? counts.get(t) : '-'}`).join(' ');
    const writers = pids.get(FILES[i]!.pidTable) ?? [];
    return { file, recorded: rows.has(file.version), sha256: rows.get(file.version), whole, none, seen, writers };
  });
}

async function reset(): Promise<void> {
  const sql = checker.pools[1]!;
  await sql.unsafe(`drop table if exists ${[...ALL_TABLES].reverse().join(', ')}`);
  await sql.unsafe(`delete from ${TABLE.schema}.${TABLE.name}`);
}

describe('pgstore applies its own set on a session killed at a random moment', () => {
  it('a file is applied whole with its history row, or not at all', async () => {
    // How long an unkilled run takes here (the kill lands in [0, 1.3 x that]).
    const calibration = await runKilled(undefined);
    if (calibration.outcome !== `applied ${FILES.length}`) throw new Error(`calibration run: ${calibration.outcome}`);
    await reset();
    const span = Math.max(50, calibration.ms * 1.3);
    const tally = {
      completed: 0,
      killedMidRun: 0,
      singleLeftWithoutRow: [] as number[],
      committedButFailed: 0,
    };
    const errors = new Map<string, number>();
    const stoppedAt = new Map<string, number>();
    await tryPromise(
      'a migration file whose session is killed at a random moment is applied whole with its history row, or not at all (and none after it)',
      rounds(12, 250),
      async () => {
        const delay = Math.round(Math.random() * span);
        const run = await runKilled(delay);
        const what = `kill after ${delay} ms (a run takes ~${Math.round(calibration.ms)} ms; run: ${run.outcome}; killed: ${run.killed})`;
        if (run.outcome.startsWith('hung')) return what;
        const state = await stateOfFiles();
        const problems: string[] = [];
        let gap: string | undefined;
        for (const s of state) {
          const transactional = s.file.transactional;
          if (s.recorded && !s.whole) problems.push(`${s.file.filename} recorded but its objects are ${s.seen}`);
          if (s.recorded && s.sha256 !== s.file.sha256)
            problems.push(`${s.file.filename} recorded with sha256 ${s.sha256}`);
          if (!s.recorded && !s.none) {
            if (transactional || !s.whole) problems.push(`${s.file.filename} not recorded but left ${s.seen}`);
            else tally.singleLeftWithoutRow.push(delay); // its kill delays
          }
          if (gap && (s.recorded || !s.none)) problems.push(`${s.file.filename} applied after ${gap} was not`);
          if (!s.recorded) gap ??= s.file.filename;
          const strangers = s.writers.filter((p) => p !== run.pid);
          // A file applied on another backend than the session's: a reconnect, without the lock.
          if (s.recorded && strangers.length)
            problems.push(`${s.file.filename} applied by backend ${strangers}, not the session's ${run.pid}`);
        }
        const all = state.every((s) => s.recorded);
        if (run.outcome.startsWith('applied') && !all)
          problems.push('the run succeeded but not every file is recorded');
        if (all && run.outcome.startsWith('applied')) tally.completed++;
        else if (all) tally.committedButFailed++;
        else {
          tally.killedMidRun++;
          stoppedAt.set(gap!, (stoppedAt.get(gap!) ?? 0) + 1);
        }
        if (!run.outcome.startsWith('applied')) {
          const kind = run.outcome.split(':')[0]!;
          errors.set(kind, (errors.get(kind) ?? 0) + 1);
        }
        await reset();
        return problems.length ? `${problems.join('; ')} — ${what}` : null;
      },
    );
    console.log(
      'migrate-direct kills:',
      JSON.stringify({
        calibrationMs: Math.round(calibration.ms),
        ...tally,
        stoppedAt: Object.fromEntries(stoppedAt),
        errors: Object.fromEntries(errors),
      }),
    );
  }, 300_000);
});

describe('concurrent migrate up of pgstore set', () => {
  const CONTENDERS = 3;
  const pgstoreFiles = readMigrations(defaultMigrationsDir());

  it(`${CONTENDERS} runs at once apply each file exactly once`, async () => {
    await tryPromise(
      `${CONTENDERS} concurrent \`migrate up\` of pgstore's own set all succeed and apply each file exactly once`,
      rounds(2, 25),
      async () => {
        const fresh = await createTestDatabase('template0');
        try {
          const results = await together(
            Array.from({ length: CONTENDERS }, () => () => migrateUp({ ...coreOptions(fresh.url), set: 'pgstore' })),
          );
          const problems: string[] = [];
          const appliedBy = new Map<string, number>();
          for (const r of results) {
            if (r.status === 'rejected') {
              problems.push(`a run failed: ${String((r.reason as Error).message ?? r.reason).split('\n')[0]}`);
              continue;
            }
            for (const m of r.value.applied) appliedBy.set(m.filename, (appliedBy.get(m.filename) ?? 0) + 1);
          }
          if (problems.length === 0) {
            for (const f of pgstoreFiles) {
              const n = appliedBy.get(f.filename) ?? 0;
              if (n !== 1) problems.push(`${f.filename} applied by ${n} runs`);
            }
            for (const name of appliedBy.keys())
              if (!pgstoreFiles.some((f) => f.filename === name)) problems.push(`unknown file ${name} applied`);
          }
          const rows = await fresh.sql<{ version: string; sha256: string | null; n: number }[]>`
            select version, min(sha256) as sha256, count(*)::int as n
              from public.pgstore_schema_migrations group by version order by version`;
          for (const f of pgstoreFiles) {
            const row = rows.find((r) => r.version === f.version);
            if (!row) problems.push(`${f.version} not recorded`);
            else if (row.n !== 1) problems.push(`${f.version} recorded ${row.n} times`);
            else if (row.sha256 !== f.sha256) problems.push(`${f.version} recorded with sha256 ${row.sha256}`);
          }
          for (const r of rows)
            if (!pgstoreFiles.some((f) => f.version === r.version))
              problems.push(`unknown version ${r.version} recorded`);
          return problems.length ? problems.join('; ') : null;
        } finally {
          await fresh.drop();
        }
      },
    );
  }, 300_000);
});
