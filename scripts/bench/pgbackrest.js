/**
 * Physical backups through pgBackRest on a database of at least 1 GiB (BENCH_PGBACKREST_GB
 * changes the size), on a private embedded server:
 *
 * 1. Building the database: a table range-partitioned by id (one partition per 500,000 rows,
 *    ~80 MB each, like monthly partitions of an event log), filled with generate_series.
 *    Timed and reported (informational).
 * 2. `pgstore backup --engine pgbackrest --type full` against `pg_dump -Fc` of the same
 *    database (informational: one copies the cluster's files, the other writes a logical dump).
 * 3. 1% of the rows change (the newest ones, as in most applications), then `pgstore backup
 *    --engine pgbackrest --type incr`. Target: ≤ 0.2× the full backup. pgBackRest 2.45
 *    copies whole changed files (1 GiB segments of each relation), so the incremental's cost
 *    depends on how many files the changes touch, not on how many rows.
 *
 * Archiving to the repository is switched on (one small full backup, untimed) before the
 * data is generated, so the full backup is measured as it runs in production. Times include
 * pgstore's own steps (configuration, stanza-create, check). The password reaches every
 * program through PGPASSWORD or pgstore's environment, never argv.
 *
 * Usage: node scripts/bench/pgbackrest.js [--runs N]   (default 1 run of each backup)
 */
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchOptions, cleanEnv, main, NODE, PGSTORE_BIN, ratio, report, run, startServer, summarize } from './lib.js';

const PG_BIN = process.env.BENCH_PG_BIN || '/usr/lib/postgresql/15/bin';
const GIB = 1024 ** 3;
const TARGET_BYTES = Number(process.env.BENCH_PGBACKREST_GB || 1) * GIB;
const ROWS_PER_PARTITION = 500_000;
const DB = 'bench_pgbackrest';

main(async () => {
  const options = benchOptions({ runs: 1, warmup: 0 });
  const server = await startServer();
  const work = mkdtempSync(join(tmpdir(), 'pgstore-bench-pgbackrest-'));
  // As root, pgBackRest runs as the server account, which must enter the backup folder's parents.
  chmodSync(work, 0o711);
  try {
    const url = new URL(server.url);
    const password = decodeURIComponent(url.password);
    const libpq = (database) =>
      cleanEnv({
        PGHOST: url.hostname,
        PGPORT: url.port,
        PGUSER: decodeURIComponent(url.username),
        PGPASSWORD: password,
        PGDATABASE: database,
      });
    const psql = (sql, database = DB) =>
      run(join(PG_BIN, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
        env: libpq(database),
        timeoutMs: 3_600_000,
      }).stdout.trim();
    const backupDir = join(work, 'backups');
    const pgstore = (args) =>
      run(NODE, [PGSTORE_BIN, ...args], {
        env: server.env({ PGSTORE_BACKUP_DIR: backupDir }),
        timeoutMs: 3_600_000,
        label: `pgstore ${args.join(' ')}`,
      });

    psql(`create database ${DB}`, 'postgres');
    const setup = pgstore(['backup', '--engine', 'pgbackrest', '--type', 'full', '--quiet']);
    console.log(`Archiving set up and a first (empty) full backup in ${(setup.ms / 1000).toFixed(1)} s`);

    const built = generate(psql);
    console.log(
      `Database ${DB}: ${(built.bytes / GIB).toFixed(2)} GiB, ${built.rows} rows in ${built.partitions} partitions, built in ${(built.ms / 1000).toFixed(1)} s (${Math.round(built.bytes / 1024 ** 2 / (built.ms / 1000))} MB/s)`,
    );

    const fullSamples = [];
    const dumpSamples = [];
    const incrSamples = [];
    let fullBytes = 0;
    let incrBytes = 0;
    let updateMs = 0;
    for (let i = 0; i < options.runs; i++) {
      psql('checkpoint', 'postgres');
      const full = pgstore(['backup', '--engine', 'pgbackrest', '--type', 'full', '--json']);
      fullSamples.push(full.ms);
      fullBytes = JSON.parse(full.stdout).backup.repositoryBytes;
      const dumpFile = join(work, 'bench.dump');
      dumpSamples.push(
        run(join(PG_BIN, 'pg_dump'), ['-Fc', `--file=${dumpFile}`], {
          env: libpq(DB),
          timeoutMs: 3_600_000,
          label: 'pg_dump -Fc',
        }).ms,
      );
      rmSync(dumpFile, { force: true });
      // 1% of the rows: the newest ones.
      const changed = Math.floor(built.rows / 100);
      updateMs = run(
        join(PG_BIN, 'psql'),
        [
          '-X',
          '-q',
          '-v',
          'ON_ERROR_STOP=1',
          '-c',
          `update events set n = n + 1, at = now() where id > ${built.rows - changed}`,
        ],
        { env: libpq(DB), timeoutMs: 3_600_000 },
      ).ms;
      psql('checkpoint', 'postgres');
      const incr = pgstore(['backup', '--engine', 'pgbackrest', '--type', 'incr', '--json']);
      incrSamples.push(incr.ms);
      incrBytes = JSON.parse(incr.stdout).backup.repositoryBytes;
    }
    console.log(
      `Changed 1% of the rows (${Math.floor(built.rows / 100)}) in ${(updateMs / 1000).toFixed(1)} s; repository: full +${Math.round(fullBytes / 1024 ** 2)} MiB, incremental +${Math.round(incrBytes / 1024 ** 2)} MiB`,
    );
    const [full, dump, incr] = [summarize(fullSamples), summarize(dumpSamples), summarize(incrSamples)];
    report(
      'pgbackrest',
      `pgBackRest on a ${(built.bytes / GIB).toFixed(2)} GiB database (pgstore backup --engine pgbackrest)`,
      [
        {
          name: 'full-vs-pg_dump',
          subject: { label: 'full backup (pgBackRest, lz4)', stats: full },
          baseline: { label: 'pg_dump -Fc', stats: dump },
          extra: { databaseBytes: built.bytes, repositoryBytes: fullBytes, buildMs: Math.round(built.ms) },
        },
        {
          name: 'incr-vs-full',
          subject: { label: 'incremental after 1% changed', stats: incr },
          baseline: { label: 'full backup', stats: full },
          target: ratio(0.2),
          extra: { repositoryBytes: incrBytes, updateMs: Math.round(updateMs) },
        },
      ],
      options,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
    server.stop();
  }
});

/** Fills a partitioned table until the database reaches TARGET_BYTES; returns what it built and how long it took. */
function generate(psql) {
  const start = performance.now();
  psql(
    `create table events (id bigint not null, user_id int not null, n int not null, at timestamptz not null, payload text not null, primary key (id)) partition by range (id)`,
  );
  let size = Number(psql(`select pg_database_size('${DB}')`));
  let partitions = 0;
  while (size < TARGET_BYTES) {
    const from = partitions * ROWS_PER_PARTITION + 1;
    const to = from + ROWS_PER_PARTITION;
    psql(`create table events_${partitions} partition of events for values from (${from}) to (${to});
          insert into events_${partitions}
          select i, i % 100000, 0, timestamptz '2026-01-01' + i * interval '1 second', md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text)
            from generate_series(${from}, ${to - 1}) i`);
    partitions++;
    size = Number(psql(`select pg_database_size('${DB}')`));
    if (process.stderr.isTTY)
      process.stderr.write(
        `\r  generating: ${Math.round(size / 1024 ** 2)}/${Math.round(TARGET_BYTES / 1024 ** 2)} MiB`,
      );
  }
  psql('vacuum analyze events');
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  return {
    ms: performance.now() - start,
    bytes: Number(psql(`select pg_database_size('${DB}')`)),
    rows: partitions * ROWS_PER_PARTITION,
    partitions,
  };
}
