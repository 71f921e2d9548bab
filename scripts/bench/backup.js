/**
 * Backup and restore throughput on a generated database of at least 1 GiB (BENCH_BACKUP_GB
 * changes the size), on a private embedded server, everything measured in the same run with
 * the same client binaries (PGSTORE_PG_BIN points pgstore at the ones timed raw):
 *
 * 1. `pgstore backup` (custom format, default compression, no verify) against raw
 *    `pg_dump -Fc` of the same database. Target ≤ 1.02× (pgstore streams the archive through
 *    itself and hashes it as it writes: no second read). The same with gzip level 1 (-Z1).
 * 2. `pgstore backup --format directory --jobs 2` against `pg_dump -Fc` (informational: the
 *    speed-up of parallel dumping), and raw `pg_dump -Fd -j2` for reference.
 * 3. `pgstore restore <backup> --target-db NEW --create` against raw `createdb NEW &&
 *    pg_restore --no-owner --exit-on-error --single-transaction -d NEW` of the same archive
 *    (the flags pgstore uses). Target ≤ 1.05×. pgstore's time includes its checksum pass,
 *    the scratch database and rename, and the row-count check afterwards.
 *
 * MB/s is the database size (pg_database_size) over the median time. Outputs are removed
 * between runs, untimed; each restore starts after a CHECKPOINT, so no run pays for the
 * previous one's dirty buffers. Passwords reach every program through PGPASSWORD, never argv.
 *
 * Usage: node scripts/bench/backup.js [--runs N] [--warmup N]   (defaults: 3 runs, 0 warm-up)
 *        BENCH_BACKUP_PARTS=backup|restore runs one half only.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
  run,
  startServer,
  summarize,
} from './lib.js';

const PG_BIN = process.env.BENCH_PG_BIN || '/usr/lib/postgresql/15/bin';
const GIB = 1024 ** 3;
const TARGET_BYTES = Number(process.env.BENCH_BACKUP_GB || 1) * GIB;
const DB = 'bench_backup';

main(async () => {
  const options = benchOptions({ runs: 3, warmup: 0 });
  const server = await startServer();
  const work = mkdtempSync(join(tmpdir(), 'pgstore-bench-backup-'));
  try {
    const url = new URL(server.url);
    const libpq = (database) =>
      cleanEnv({
        PGHOST: url.hostname,
        PGPORT: url.port,
        PGUSER: decodeURIComponent(url.username),
        PGPASSWORD: decodeURIComponent(url.password),
        PGDATABASE: database,
      });
    const urlFor = (database) => {
      const u = new URL(server.url);
      u.pathname = `/${database}`;
      return u.toString();
    };
    const pgstoreEnv = cleanEnv({ DATABASE_URL: urlFor(DB), PGSTORE_PG_BIN: PG_BIN });
    const psql = (sql, database = DB) =>
      run(join(PG_BIN, 'psql'), ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
        env: libpq(database),
        timeoutMs: 3_600_000,
      }).stdout.trim();

    const size = generate(psql);
    const mb = size / 1024 ** 2;
    console.log(
      `Database ${DB}: ${(size / GIB).toFixed(2)} GiB (${Math.round(mb)} MiB) in ${psql("select count(*) from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace")} tables`,
    );

    const parts = (process.env.BENCH_BACKUP_PARTS || 'backup,restore').split(',');
    const ctx = { options, work, size, mb, libpq, psql, pgstoreEnv };
    if (parts.includes('backup')) benchBackups(ctx);
    if (parts.includes('restore')) benchRestore(ctx);
  } finally {
    rmSync(work, { recursive: true, force: true });
    server.stop();
  }
});

/** 1 and 2: pgstore backup against raw pg_dump, interleaved. */
function benchBackups({ options, work, size, libpq, pgstoreEnv, mb }) {
  const out = join(work, 'out');
  const backupDir = join(work, 'backups');
  const mbps = (stats) => round(mb / (stats.median / 1000));
  const clean = () => {
    rmSync(out, { recursive: true, force: true });
    rmSync(backupDir, { recursive: true, force: true });
  };
  const pgDump = (args) => () =>
    run(join(PG_BIN, 'pg_dump'), [...args, `--file=${out}`], {
      env: libpq(DB),
      timeoutMs: 3_600_000,
      label: `pg_dump ${args.join(' ')}`,
    });
  const pgstoreBackup = (args) => () =>
    run(NODE, [PGSTORE_BIN, 'backup', '--quiet', '--dir', backupDir, ...args], {
      env: pgstoreEnv,
      timeoutMs: 3_600_000,
      label: `pgstore backup ${args.join(' ')}`,
    });
  const backups = timeInterleaved(
    {
      rawFc: pgDump(['-Fc']),
      pgstoreFc: pgstoreBackup([]),
      rawZ1: pgDump(['-Fc', '-Z1']),
      pgstoreZ1: pgstoreBackup(['--compress', 'gzip:1']),
      rawFd2: pgDump(['-Fd', '-j2']),
      pgstoreFd2: pgstoreBackup(['--format', 'directory', '--jobs', '2']),
    },
    options,
    clean,
    'backups',
  );
  const rows = report(
    'backup',
    'backup: pgstore backup against raw pg_dump, same database, same binaries',
    [
      {
        name: 'backup-custom',
        subject: { label: 'pgstore backup (-Fc)', stats: backups.pgstoreFc },
        baseline: { label: 'pg_dump -Fc', stats: backups.rawFc },
        target: ratio(1.02),
        extra: { mbPerSecond: mbps(backups.pgstoreFc), baselineMbPerSecond: mbps(backups.rawFc), databaseBytes: size },
      },
      {
        name: 'backup-custom-z1',
        subject: { label: 'pgstore backup --compress gzip:1', stats: backups.pgstoreZ1 },
        baseline: { label: 'pg_dump -Fc -Z1', stats: backups.rawZ1 },
        target: ratio(1.02),
        extra: { mbPerSecond: mbps(backups.pgstoreZ1), baselineMbPerSecond: mbps(backups.rawZ1) },
      },
      {
        name: 'backup-directory-j2',
        subject: { label: 'pgstore backup -Fd --jobs 2', stats: backups.pgstoreFd2 },
        baseline: { label: 'pg_dump -Fc', stats: backups.rawFc },
        extra: { mbPerSecond: mbps(backups.pgstoreFd2) },
      },
      {
        name: 'raw-directory-j2',
        subject: { label: 'pg_dump -Fd -j2', stats: backups.rawFd2 },
        baseline: { label: 'pg_dump -Fc', stats: backups.rawFc },
        extra: { mbPerSecond: mbps(backups.rawFd2) },
      },
    ],
    options,
  );
  for (const r of rows)
    console.log(
      `  ${r.subject.label.padEnd(34)} ${String(mbps(r.subject.stats)).padStart(7)} MB/s   (${r.baseline.label}: ${mbps(r.baseline.stats)} MB/s, ratio ${r.ratio.toFixed(3)}×)`,
    );
}

/** 3: pgstore restore against raw createdb && pg_restore of the same archive, interleaved. */
function benchRestore({ options, work, libpq, psql, pgstoreEnv, mb }) {
  const backupDir = join(work, 'backups');
  const mbps = (stats) => round(mb / (stats.median / 1000));
  rmSync(backupDir, { recursive: true, force: true });
  run(NODE, [PGSTORE_BIN, 'backup', '--quiet', '--dir', backupDir], { env: pgstoreEnv, timeoutMs: 3_600_000 });
  const [id] = readdirSync(join(backupDir, DB)).filter((name) => !name.startsWith('.'));
  const archive = join(backupDir, DB, id, 'backup.dump');
  let n = 0;
  let target = '';
  const restores = timeInterleaved(
    {
      raw: () =>
        run(
          '/bin/sh',
          [
            '-c',
            `"${PG_BIN}/createdb" "${target}" && exec "${PG_BIN}/pg_restore" --no-owner --exit-on-error --single-transaction --dbname="${target}" "${archive}"`,
          ],
          { env: libpq('postgres'), timeoutMs: 3_600_000, label: 'pg_restore' },
        ),
      pgstore: () =>
        run(
          NODE,
          [PGSTORE_BIN, 'restore', `${DB}/${id}`, '--dir', backupDir, '--target-db', target, '--create', '--quiet'],
          { env: pgstoreEnv, timeoutMs: 3_600_000, label: 'pgstore restore' },
        ),
    },
    options,
    () => {
      if (target) psql(`drop database if exists "${target}"`, 'postgres');
      // Start each run with no dirty buffers left by the one before.
      psql('checkpoint', 'postgres');
      target = `bench_restore_${++n}`;
    },
    'restores',
  );
  const restoreRows = report(
    'backup',
    'restore: pgstore restore against raw pg_restore of the same archive',
    [
      {
        name: 'restore-custom',
        subject: { label: 'pgstore restore --create', stats: restores.pgstore },
        baseline: { label: 'createdb && pg_restore', stats: restores.raw },
        target: ratio(1.05),
        extra: {
          mbPerSecond: mbps(restores.pgstore),
          baselineMbPerSecond: mbps(restores.raw),
          samplesMs: restores.pgstore.samples.map(Math.round),
          baselineSamplesMs: restores.raw.samples.map(Math.round),
        },
      },
    ],
    options,
  );
  for (const r of restoreRows)
    console.log(
      `  ${r.subject.label.padEnd(34)} ${String(mbps(r.subject.stats)).padStart(7)} MB/s   (${r.baseline.label}: ${mbps(r.baseline.stats)} MB/s, ratio ${r.ratio.toFixed(3)}×)`,
    );
  if (target) psql(`drop database if exists "${target}"`, 'postgres');
}

/** Creates and fills the bench database until it reaches TARGET_BYTES; returns its size. */
function generate(psql) {
  psql(`drop database if exists ${DB}`, 'postgres');
  psql(`create database ${DB}`, 'postgres');
  psql(`create table users (id bigint primary key, email text not null, name text not null, created_at timestamptz not null);
        insert into users select i, 'user' || i || '@example.com', 'User ' || md5(i::text), now() - i * interval '1 minute' from generate_series(1, 500000) i;
        create table events (id bigint generated always as identity primary key, user_id bigint not null references users,
                             kind text not null, payload jsonb not null, created_at timestamptz not null);`);
  const bar = progress('generating data');
  let size = Number(psql(`select pg_database_size('${DB}')`));
  for (let batch = 0; size < TARGET_BYTES; batch++) {
    psql(`insert into events (user_id, kind, payload, created_at)
          select i % 500000 + 1, (array['login', 'view', 'click', 'purchase'])[i % 4 + 1],
                 jsonb_build_object('ip', '10.' || i % 251 || '.' || i % 241 || '.' || i % 239, 'agent', md5(i::text) || md5((i * 7)::text), 'n', i, 'ok', i % 3 = 0),
                 now() - i * interval '1 second'
            from generate_series(${batch * 1_000_000 + 1}, ${(batch + 1) * 1_000_000}) i`);
    size = Number(psql(`select pg_database_size('${DB}')`));
    bar.update(Math.round(size / 1024 ** 2), Math.round(TARGET_BYTES / 1024 ** 2));
  }
  psql('create index events_user_id_idx on events (user_id)');
  psql('vacuum analyze');
  bar.done();
  return Number(psql(`select pg_database_size('${DB}')`));
}

/**
 * Runs every variant once per round, in a rotating order, `warmup` untimed rounds then `runs`
 * timed ones; `before` runs untimed before each single measurement.
 */
function timeInterleaved(variants, { runs, warmup }, before, label) {
  const names = Object.keys(variants);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const bar = progress(label);
  const total = warmup + runs;
  for (let round = 0; round < total; round++) {
    const order = names.slice(round % names.length).concat(names.slice(0, round % names.length));
    for (const name of order) {
      before();
      const result = variants[name]();
      if (round >= warmup) samples[name].push(result.ms);
    }
    bar.update(round + 1, total);
  }
  before();
  bar.done();
  return Object.fromEntries(names.map((name) => [name, summarize(samples[name])]));
}

function round(n) {
  return Math.round(n * 10) / 10;
}
