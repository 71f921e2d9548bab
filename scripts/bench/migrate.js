/**
 * `pgstore migrate up` of the whole schema against raw dbmate on the same files, in the same
 * run, on the same private server. Each timed run starts from a freshly created empty
 * database (created untimed). pgstore's time includes its lock, pre-flight checks and
 * checksums. Target: ≤ 1.15× dbmate.
 *
 * Also measured: the floor of any Node.js wrapper around the dbmate binary, Node's own start
 * (`node -e 0`) plus dbmate's run, as a ratio to dbmate. When that floor is above the target,
 * no wrapper that runs dbmate can meet it; the gap between pgstore and the floor is pgstore's
 * own cost (modules, connection, lock, checks, checksums).
 *
 * Usage: node scripts/bench/migrate.js [--runs N] [--warmup N]
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { benchOptions, cleanEnv, main, NODE, PGSTORE_BIN, progress, ratio, report, ROOT, run, startServer, summarize } from './lib.js';

const PSQL = process.env.BENCH_PSQL || '/usr/bin/psql';
const require = createRequire(import.meta.url);
const DBMATE = require.resolve(`@dbmate/${process.platform}-${process.arch}/bin/dbmate`);
const MIGRATIONS = join(ROOT, 'migrations');

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
    const recreate = (db) => run(PSQL, [admin, '-X', '-q', '-c', `drop database if exists ${db}`, '-c', `create database ${db}`], { env: cleanEnv() });
    const variants = {
      pgstore: (db) => run(NODE, [PGSTORE_BIN, 'migrate', 'up'], { env: cleanEnv({ DATABASE_URL: urlFor(db) }), label: 'pgstore migrate up' }),
      dbmate: (db) =>
        run(DBMATE, ['--env-file', '/dev/null', '--migrations-dir', MIGRATIONS, '--migrations-table', 'public.schema_migrations', '--no-dump-schema', 'migrate'], {
          env: cleanEnv({ DATABASE_URL: urlFor(db) }),
          label: 'dbmate migrate',
        }),
    };
    variants.node = () => run(NODE, ['-e', '0'], { env: cleanEnv(), label: 'node -e 0' });
    const samples = { pgstore: [], dbmate: [], node: [] };
    const total = options.warmup + options.runs;
    const bar = progress('migrate up vs dbmate');
    for (let round = 0; round < total; round++) {
      const order = round % 2 === 0 ? ['pgstore', 'dbmate', 'node'] : ['node', 'dbmate', 'pgstore'];
      for (const name of order) {
        const db = `bench_${name}`;
        if (name !== 'node') recreate(db);
        const result = variants[name](db);
        if (round >= options.warmup) samples[name].push(result.ms);
      }
      bar.update(round + 1, total);
    }
    bar.done();
    const [row] = report(
      'migrate',
      'migrate: pgstore migrate up (lock, checks, checksums) against raw dbmate, whole schema from empty',
      [
        {
          name: 'migrate-up',
          subject: { label: 'pgstore migrate up', stats: summarize(samples.pgstore) },
          baseline: { label: 'dbmate migrate', stats: summarize(samples.dbmate) },
          target: ratio(1.15),
        },
      ],
      options,
    );
    const node = summarize(samples.node).median;
    const dbmate = summarize(samples.dbmate).median;
    const floor = (node + dbmate) / dbmate;
    console.log(
      `\nfloor of a Node.js wrapper: node -e 0 (${(node / 1000).toFixed(3)} s) + dbmate (${(dbmate / 1000).toFixed(3)} s) = ${floor.toFixed(2)}× dbmate;` +
        ` pgstore's own cost above it: ${((row.subject.stats.median - node - dbmate) / 1000).toFixed(3)} s`,
    );
    console.log(`BENCH ${JSON.stringify({ bench: 'migrate', name: 'wrapper-floor', nodeStartMs: Math.round(node), dbmateMs: Math.round(dbmate), floorRatio: Number(floor.toFixed(3)), target: 1.15, reachable: floor <= 1.15 })}`);
  } finally {
    server.stop();
  }
});
