/**
 * `pgstore seed --synthetic` loading host events, against `psql \copy` of the same rows from a
 * file into the same table (triggers off, as pgstore loads it; psql into the table with its keys,
 * pgstore drops the keys of the empty table and builds them after, as its time includes), in the same run, on the same
 * private server, each into a freshly migrated database. pgstore's time includes generating
 * the rows and writing the streams and the hosts projection; psql only copies. Also reports
 * pgstore's peak RSS. Target: ≥ 0.8× psql's rows/s.
 *
 * Usage: node scripts/bench/seed.js [--events N] (default 1,000,000; 10 events per host)
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, main, NODE, PGSTORE_BIN, run, runPgstore, startServer, table } from './lib.js';

const PSQL = process.env.BENCH_PSQL || '/usr/bin/psql';
const TIME = '/usr/bin/time';
const PER_HOST = 10;

function argEvents() {
  const i = process.argv.indexOf('--events');
  return i > 0 ? Number(process.argv[i + 1]) : Number(process.env.BENCH_EVENTS || 1_000_000);
}

main(async () => {
  const events = argEvents();
  const hosts = Math.ceil(events / PER_HOST);
  const server = await startServer();
  const work = mkdtempSync(join(tmpdir(), 'pgstore-bench-seed-'));
  try {
    const urlFor = (db) => {
      const url = new URL(server.url);
      url.pathname = `/${db}`;
      return url.toString();
    };
    const fresh = (db) => {
      run(PSQL, [server.url, '-X', '-q', '-c', `drop database if exists ${db}`, '-c', `create database ${db}`], {
        env: cleanEnv(),
      });
      runPgstore(['migrate', '-q'], { env: cleanEnv({ DATABASE_URL: urlFor(db) }) });
    };

    // The same rows psql will load, written by the generator pgstore uses (not timed).
    const { syntheticHosts } = await import('../../dist/core/seed/synthetic-data.js');
    const { copyLine } = await import('../../dist/store/copy.js');
    const file = join(work, 'events.copy');
    let text = '';
    let seq = 1;
    const parts = [];
    for (const group of syntheticHosts('bench', hosts, PER_HOST)) {
      for (const e of group.events)
        text += copyLine([
          seq++,
          e.eventId,
          e.aggregateId,
          e.type,
          e.eventVersion,
          e.expectedVersion,
          e.event,
          e.createdAt,
          e.createdAt,
        ]);
      if (text.length > 1 << 24) {
        parts.push(text);
        text = '';
      }
    }
    parts.push(text);
    writeFileSync(file, parts.join(''));
    parts.length = 0;

    fresh('bench_psql');
    const columns =
      'seq, event_id, aggregate_id, event_type, event_version, expected_version, event, created_at, recorded_at';
    const psql = run(
      PSQL,
      [
        urlFor('bench_psql'),
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        'alter table hosts.host_events disable trigger user',
        '-c',
        `\\copy hosts.host_events (${columns}) from '${file}'`,
      ],
      { env: cleanEnv(), timeoutMs: 3_600_000 },
    );

    fresh('bench_pgstore');
    const args = [
      PGSTORE_BIN,
      'seed',
      '--synthetic',
      '--users',
      '0',
      '--tenants',
      '0',
      '--hosts',
      String(hosts),
      '--events-per-host',
      String(PER_HOST),
      '--random-seed',
      'bench',
      '--json',
    ];
    const env = cleanEnv({ DATABASE_URL: urlFor('bench_pgstore') });
    const timed = existsSync(TIME);
    const pg = timed
      ? run(TIME, ['-f', 'MAXRSS_KB=%M', NODE, ...args], { env, timeoutMs: 3_600_000 })
      : run(NODE, args, { env, timeoutMs: 3_600_000 });
    const rssMb = timed ? Number(/MAXRSS_KB=(\d+)/.exec(pg.stderr)?.[1] ?? 0) / 1024 : NaN;
    const summary = JSON.parse(pg.stdout);
    const loaded = summary.rows['hosts.host_events'];

    const pgRate = loaded / (pg.ms / 1000);
    const psqlRate = events / (psql.ms / 1000);
    const ratio = pgRate / psqlRate;
    console.log(
      `\nseed: ${loaded.toLocaleString('en-US')} host events, pgstore seed --synthetic (generate + COPY + projection) against psql \\copy from a file`,
    );
    console.log(
      table(
        ['measurement', 'seconds', 'rows/s', 'ratio', 'target', 'result', 'peak RSS'],
        [
          [
            'pgstore seed --synthetic',
            (pg.ms / 1000).toFixed(1),
            pgRate.toFixed(0),
            `${ratio.toFixed(2)}×`,
            '≥ 0.8×',
            ratio >= 0.8 ? 'PASS' : 'MISS',
            Number.isNaN(rssMb) ? '?' : `${rssMb.toFixed(0)} MB`,
          ],
          ['psql \\copy (baseline)', (psql.ms / 1000).toFixed(1), psqlRate.toFixed(0), '1.00×', '', '', ''],
        ],
      ),
    );
    console.log(
      `BENCH ${JSON.stringify({ bench: 'seed', events: loaded, pgstoreSeconds: pg.ms / 1000, psqlSeconds: psql.ms / 1000, pgstoreRowsPerSec: Math.round(pgRate), psqlRowsPerSec: Math.round(psqlRate), ratio: Number(ratio.toFixed(3)), target: 0.8, pass: ratio >= 0.8, peakRssMb: Math.round(rssMb) })}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
    server.stop();
  }
});
