/**
 * `pgstore migrate up` against raw dbmate on the same files, in the same run, on the same
 * private server: pgstore's own schema (its set), and 60 application migrations of realistic
 * size (tables, indexes, constraints, a small backfill, a view each). Each timed run starts from a freshly created empty
 * database (created untimed). pgstore's time includes its lock, pre-flight checks and
 * checksums. Target: ≤ 1.15× dbmate.
 *
 * A third scenario runs both on an up-to-date database (migrated once, untimed): nothing
 * pending, so what is left is start-up, the connection, the lock and the checks.
 *
 * Also measured: the floor of any Node.js wrapper around the dbmate binary, Node's own start
 * (`node -e 0`) plus dbmate's run, as a ratio to dbmate. When that floor is above the target,
 * no wrapper that runs dbmate can meet it; the gap between pgstore and the floor is pgstore's
 * own cost (modules, connection, lock, checks, checksums); its target is ≤ 50 ms per command.
 * A minimal locking wrapper (locking-wrapper.cjs: postgres.js, one advisory lock, dbmate, the
 * unlock) runs in the same rounds: its own cost is the part no wrapper of dbmate can avoid.
 * pgstore applies its own set itself (no dbmate process), so there it may go below that.
 *
 * Usage: node scripts/bench/migrate.js [--runs N] [--warmup N]
 *        (BENCH_MIGRATE_ONLY=name,name runs only those scenarios)
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchOptions,
  cleanEnv,
  main,
  NODE,
  PGSTORE_BIN,
  progress,
  ratio,
  report,
  ROOT,
  run,
  startServer,
  summarize,
} from './lib.js';

const PSQL = process.env.BENCH_PSQL || '/usr/bin/psql';
const require = createRequire(import.meta.url);
const DBMATE = require.resolve(`@dbmate/${process.platform}-${process.arch}/bin/dbmate`);
const MIGRATIONS = join(ROOT, 'migrations');
const WRAPPER = join(ROOT, 'scripts', 'bench', 'locking-wrapper.cjs');

/** `n` application migrations of realistic size: tables, indexes, constraints, a backfill, a view. */
function appMigrations(n) {
  const dir = mkdtempSync(join(tmpdir(), 'pgstore-bench-mig-'));
  for (let i = 1; i <= n; i++) {
    const t = `t${String(i).padStart(3, '0')}`;
    const prev = i > 1 ? `t${String(i - 1).padStart(3, '0')}` : null;
    const up = [
      `create table ${t} (id bigint generated always as identity primary key, name text not null, created_at timestamptz not null default now(), data jsonb not null default '{}'${prev ? `, ${prev}_id bigint references ${prev} (id)` : ''});`,
      `create index ${t}_created_at on ${t} (created_at);`,
      `alter table ${t} add constraint ${t}_name_length check (length(name) between 1 and 200);`,
      `insert into ${t} (name) select 'row ' || g from generate_series(1, 200) g;`,
      `create view ${t}_recent as select id, name from ${t} where created_at > now() - interval '7 days';`,
      `comment on table ${t} is 'bench table ${i}';`,
    ].join('\n');
    const down = `drop view ${t}_recent;\ndrop table ${t};`;
    const stamp = `2025${String(Math.floor(i / 28) + 1).padStart(2, '0')}${String((i % 28) + 1).padStart(2, '0')}120000`;
    writeFileSync(join(dir, `${stamp}_${t}.sql`), `-- migrate:up\n${up}\n\n-- migrate:down\n${down}\n`);
  }
  return dir;
}

main(async () => {
  const options = benchOptions({ runs: 15, warmup: 2 });
  const server = await startServer();
  try {
    const admin = server.url;
    const urlFor = (db) => {
      const url = new URL(admin);
      url.pathname = `/${db}`;
      return url.toString();
    };
    const recreate = (db) =>
      run(PSQL, [admin, '-X', '-q', '-c', `drop database if exists ${db}`, '-c', `create database ${db}`], {
        env: cleanEnv(),
      });
    const dbmateArgs = (dir, table) => [
      '--env-file',
      '/dev/null',
      '--migrations-dir',
      dir,
      '--migrations-table',
      table,
      '--no-dump-schema',
      'migrate',
    ];
    const dbmate = (dir, table, label) => (db) =>
      run(DBMATE, dbmateArgs(dir, table), { env: cleanEnv({ DATABASE_URL: urlFor(db) }), label });
    // The floor of any Node.js tool that runs dbmate under a lock (locking-wrapper.cjs).
    const wrapper = (dir, table) => (db) =>
      run(NODE, [WRAPPER, DBMATE, ...dbmateArgs(dir, table)], {
        env: cleanEnv({ DATABASE_URL: urlFor(db) }),
        label: 'locking wrapper of dbmate',
      });
    const pgstore = (args, label) => (db) =>
      run(NODE, [PGSTORE_BIN, 'migrate', 'up', '--no-dump-schema', ...args], {
        env: cleanEnv({ DATABASE_URL: urlFor(db) }),
        label,
      });
    const appDir = appMigrations(60);
    const scenarios = [
      {
        name: 'migrate-up-none-pending',
        title: "pgstore's own schema, nothing pending",
        upToDate: true,
        pgstore: pgstore(['--set', 'pgstore'], 'pgstore migrate up (nothing pending)'),
        dbmate: dbmate(MIGRATIONS, 'public.pgstore_schema_migrations', 'dbmate migrate (nothing pending)'),
        wrapper: wrapper(MIGRATIONS, 'public.pgstore_schema_migrations'),
      },
      {
        name: 'migrate-up',
        title: "pgstore's own schema from empty",
        pgstore: pgstore(['--set', 'pgstore'], 'pgstore migrate up'),
        dbmate: dbmate(MIGRATIONS, 'public.pgstore_schema_migrations', 'dbmate migrate'),
        wrapper: wrapper(MIGRATIONS, 'public.pgstore_schema_migrations'),
      },
      {
        name: 'migrate-up-60',
        title: '60 application migrations of realistic size from empty',
        pgstore: pgstore(['--set', 'app', '--migrations-dir', appDir], 'pgstore migrate up (60 files)'),
        dbmate: dbmate(appDir, 'public.schema_migrations', 'dbmate migrate (60 files)'),
        wrapper: wrapper(appDir, 'public.schema_migrations'),
      },
    ];
    const only = process.env.BENCH_MIGRATE_ONLY?.split(',').filter(Boolean);
    const chosen = only ? scenarios.filter((s) => only.includes(s.name)) : scenarios;
    if (chosen.length === 0)
      throw new Error(`BENCH_MIGRATE_ONLY matches no scenario: ${scenarios.map((s) => s.name).join(', ')}`);
    const node = () => run(NODE, ['-e', '0'], { env: cleanEnv(), label: 'node -e 0' });
    const rows = [];
    const floors = [];
    for (const scenario of chosen) {
      const samples = { pgstore: [], dbmate: [], node: [], wrapper: [] };
      const variants = { pgstore: scenario.pgstore, dbmate: scenario.dbmate, node, wrapper: scenario.wrapper };
      const total = options.warmup + options.runs;
      const bar = progress(`${scenario.name} vs dbmate`);
      if (scenario.upToDate) {
        // Migrated once, untimed: every timed run finds nothing pending.
        for (const name of ['pgstore', 'dbmate', 'wrapper']) {
          recreate(`bench_${name}`);
          variants[name](`bench_${name}`);
        }
      }
      for (let round = 0; round < total; round++) {
        const order =
          round % 2 === 0 ? ['pgstore', 'dbmate', 'wrapper', 'node'] : ['node', 'wrapper', 'dbmate', 'pgstore'];
        for (const name of order) {
          const db = `bench_${name}`;
          if (name !== 'node' && !scenario.upToDate) recreate(db);
          const result = variants[name](db);
          if (round >= options.warmup) samples[name].push(result.ms);
        }
        bar.update(round + 1, total);
      }
      bar.done();
      rows.push({
        name: scenario.name,
        subject: { label: `pgstore migrate up: ${scenario.title}`, stats: summarize(samples.pgstore) },
        baseline: { label: 'dbmate migrate, same files', stats: summarize(samples.dbmate) },
        target: ratio(1.15),
      });
      // Paired: each round's own cost from the runs next to each other in time (the disk's
      // flush latency drifts over a run; adjacent runs share it).
      const pairedOwn = (name) =>
        summarize(samples[name].map((ms, i) => ms - samples.dbmate[i] - samples.node[i])).median;
      floors.push({
        name: scenario.name,
        pairedOwn: pairedOwn('pgstore'),
        pairedWrapperOwn: pairedOwn('wrapper'),
        node: summarize(samples.node).median,
        dbmate: summarize(samples.dbmate).median,
        pgstore: summarize(samples.pgstore).median,
        wrapper: summarize(samples.wrapper).median,
      });
    }
    report(
      'migrate',
      'migrate: pgstore migrate up (lock, checks, checksums, lock_timeout) against raw dbmate on the same files',
      rows,
      options,
    );
    for (const f of floors) {
      const own = f.pgstore - f.node - f.dbmate;
      const wrapperOwn = f.wrapper - f.node - f.dbmate;
      console.log(
        `\n${f.name}: floor of a Node.js wrapper: node -e 0 (${(f.node / 1000).toFixed(3)} s) + dbmate (${(f.dbmate / 1000).toFixed(3)} s) = ${((f.node + f.dbmate) / f.dbmate).toFixed(2)}× dbmate;` +
          ` pgstore's own cost above it: ${Math.round(own)} ms (target ≤ 50 ms: ${own <= 50 ? 'met' : 'missed'});` +
          ` a minimal locking wrapper's (postgres.js, one lock, dbmate, unlock): ${Math.round(wrapperOwn)} ms.` +
          ` Paired by round (median of each round's pgstore − dbmate − node): pgstore ${Math.round(f.pairedOwn)} ms, the wrapper ${Math.round(f.pairedWrapperOwn)} ms`,
      );
      console.log(
        `BENCH ${JSON.stringify({ bench: 'migrate', name: `${f.name}-own-cost`, nodeStartMs: Math.round(f.node), dbmateMs: Math.round(f.dbmate), pgstoreMs: Math.round(f.pgstore), ownCostMs: Math.round(own), pairedOwnCostMs: Math.round(f.pairedOwn), lockingWrapperOwnCostMs: Math.round(wrapperOwn), pairedLockingWrapperOwnCostMs: Math.round(f.pairedWrapperOwn), target: 50, met: own <= 50 })}`,
      );
    }
    rmSync(appDir, { recursive: true, force: true });
  } finally {
    server.stop();
  }
});
