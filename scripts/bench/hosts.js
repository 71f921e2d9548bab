/**
 * The hosts store against the seed design, on one private embedded server, in one run.
 *
 * Data: 100,000 live hosts built from 1,000,000 events (110k HostCreated, 880k changes,
 * 10k HostDeleted), bulk-loaded with the triggers disabled, then hosts.rebuild_projection().
 *
 * 1. list, library: db.hosts.listAll() (the hosts.hosts projection) against seed 001's
 *    current-state query over host_events, as it shipped in its PostgreSQL backend
 *    (get_at_time at now: the events in one CTE, then one DISTINCT ON per column ordered by
 *    event_version; its list_all view used IGNORE NULLS, which PostgreSQL does not have),
 *    adapted to jsonb events, run through the same driver. Target: ≥ 20× faster.
 * 2. list, CLI: `pgstore hosts list --json` against `psql -c '<the seed query>'`. Target ≥ 20×.
 *    Both also time the floor: the projection's rows fetched unmapped (raw postgres.js, psql).
 *    And the CLI's formats against that floor (raw postgres.js, in-process, no mapping):
 *    --json and --format ndjson each ≥ 0.7× the floor's speed (≤ floor / 0.7), the table
 *    reported beside them (issue 15 §1).
 * 3. getById: median of single lookups. Target: ≤ 1 ms (baseline: the seed query for one id).
 * 4. import: `pgstore hosts import` of a 100,000-line hosts file into an empty hosts table.
 *    Target: ≥ 50,000 lines/s, i.e. ≤ 2 s (baseline: psql \copy of the same file into an
 *    unindexed one-column table, the I/O floor). Also timed, the server's floor: psql loading
 *    the rows the import wrote (events, streams, projection) as its bulk path does; target
 *    ≥ 0.85× the floor's speed (issue 15 §1).
 *
 * Usage: node scripts/bench/hosts.js [--runs N] [--warmup N]   (defaults: 5 runs, 1 warm-up)
 *        BENCH_ONLY=list to run only the list rows (load, 1, 2 and the formats);
 *        BENCH_ONLY=import to run only 4 (no load), with its ratio to the server's floor.
 *        BENCH_ONLY=formats for the load and the formats alone (the seed query takes minutes).
 *        BENCH_ONLY=snapshot for 5 alone (its own database, no load).
 * 5. snapshot: `pgstore snapshot create` and `snapshot rollback --yes` on a store of 100,000
 *    synthetic hosts (`seed --synthetic`), each rollback changing every entry's comment (one
 *    event per entry, through the trigger), against the floor of psql COPYing the same rows
 *    out as JSON (what any snapshot reads). Reported, no target (issue: snapshot progress).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchOptions,
  cleanEnv,
  compare,
  main,
  NODE,
  now,
  PGSTORE_BIN,
  progress,
  ratio,
  report,
  run,
  runPgstore,
  seconds,
  startServer,
  summarize,
} from './lib.js';

const PSQL = process.env.BENCH_PSQL || '/usr/bin/psql';
const LIVE = 100_000;
const CREATED = 110_000;
const CHANGES = 880_000;
const IMPORT_LINES = 100_000;
const SNAPSHOT_HOSTS = 100_000;

/** Seed 001's current state, adapted to jsonb events: one DISTINCT ON per column. */
const SEED_COLUMNS = (events) => `
  latest_events AS (
    SELECT DISTINCT ON (aggregate_id) aggregate_id, event_type AS latest_event_type, event_version, created_at AS updated_at
    FROM ${events} ORDER BY aggregate_id, event_version DESC),
  first_events AS (
    SELECT DISTINCT ON (aggregate_id) aggregate_id, created_at
    FROM ${events} ORDER BY aggregate_id, event_version ASC),
  ip_values AS (
    SELECT DISTINCT ON (aggregate_id) aggregate_id, COALESCE(event ->> 'ipAddress', event ->> 'newIp') AS ip_address
    FROM ${events} WHERE COALESCE(event ->> 'ipAddress', event ->> 'newIp') IS NOT NULL ORDER BY aggregate_id, event_version DESC),
  hostname_values AS (
    SELECT DISTINCT ON (aggregate_id) aggregate_id, COALESCE(event ->> 'hostname', event ->> 'newHostname') AS hostname
    FROM ${events} WHERE COALESCE(event ->> 'hostname', event ->> 'newHostname') IS NOT NULL ORDER BY aggregate_id, event_version DESC),
  aliases_values AS (
    SELECT DISTINCT ON (aggregate_id) aggregate_id, COALESCE(event -> 'aliases', event -> 'newAliases') AS aliases
    FROM ${events} WHERE COALESCE(event -> 'aliases', event -> 'newAliases') IS NOT NULL ORDER BY aggregate_id, event_version DESC),
  comment_values AS (
    SELECT DISTINCT ON (aggregate_id) aggregate_id, COALESCE(event ->> 'comment', event ->> 'newComment') AS comment
    FROM ${events} WHERE COALESCE(event ->> 'comment', event ->> 'newComment') IS NOT NULL ORDER BY aggregate_id, event_version DESC),
  tags_values AS (
    SELECT DISTINCT ON (aggregate_id) aggregate_id, COALESCE(event -> 'tags', event -> 'newTags') AS tags
    FROM ${events} WHERE COALESCE(event -> 'tags', event -> 'newTags') IS NOT NULL ORDER BY aggregate_id, event_version DESC)`;

const SEED_SELECT = `
  SELECT le.aggregate_id AS id, ip.ip_address, hn.hostname, av.aliases, cv.comment, tv.tags,
         fe.created_at, le.updated_at, le.event_version
  FROM latest_events le
  LEFT JOIN first_events fe ON fe.aggregate_id = le.aggregate_id
  LEFT JOIN ip_values ip ON ip.aggregate_id = le.aggregate_id
  LEFT JOIN hostname_values hn ON hn.aggregate_id = le.aggregate_id
  LEFT JOIN aliases_values av ON av.aggregate_id = le.aggregate_id
  LEFT JOIN comment_values cv ON cv.aggregate_id = le.aggregate_id
  LEFT JOIN tags_values tv ON tv.aggregate_id = le.aggregate_id
  WHERE le.latest_event_type <> 'HostDeleted'`;

// As shipped: the events up to a time (now, for the current state) in one CTE that every
// per-column CTE reads (PostgreSQL materializes it, as it is referenced more than once).
const SEED_LIST = `WITH events_at_time AS (SELECT * FROM hosts.host_events WHERE created_at <= now()), ${SEED_COLUMNS('events_at_time')} ${SEED_SELECT} ORDER BY ip.ip_address, hn.hostname`;
// get_by_id was the (IGNORE NULLS) view with WHERE id = $1; here the id filter is applied
// to the events first, so the baseline reads one aggregate's events, not a strawman.
const SEED_GET = `WITH events AS MATERIALIZED (SELECT * FROM hosts.host_events WHERE aggregate_id = $1), ${SEED_COLUMNS('events')} ${SEED_SELECT}`;

// The floor: the projection's rows fetched with no mapping at all (raw postgres.js; psql).
const PROJECTION_LIST =
  'SELECT id, ip_address, hostname, aliases, comment, tags, created_at, updated_at, version FROM hosts.hosts ORDER BY ip_address, hostname';

// psql streaming the same rows as JSON the server makes (json_agg would hold them all), to stdout:
// what a separate process can do at best, beside the in-process floor.
const PSQL_JSON_COPY = `\\copy (select row_to_json(h) from (${PROJECTION_LIST}) h) to '/dev/null'`;

async function load(sql, log) {
  const started = now();
  await sql.unsafe('alter table hosts.host_events disable trigger user');
  await sql.unsafe(`
    insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, event, created_at)
    select 'e' || g, 'h' || lpad(g::text, 6, '0'), 'HostCreated', lpad(g::text, 12, '0'),
           jsonb_build_object('type', 'HostCreated', 'ipAddress', '10.' || (g >> 16) || '.' || ((g >> 8) & 255) || '.' || (g & 255),
                              'hostname', 'host' || g || '.bench.example', 'aliases', '[]'::jsonb, 'comment', null,
                              'tags', jsonb_build_array('t' || (g % 10)), 'createdAt', now()),
           now() - interval '30 days' + g * interval '1 ms'
    from generate_series(1, ${CREATED}) g`);
  log(`  ${CREATED} HostCreated`);
  await sql.unsafe(`
    insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, event, created_at)
    select 'e' || (${CREATED} + k), 'h' || lpad(((k - 1) % ${LIVE} + 1)::text, 6, '0'), t.type, lpad((${CREATED} + k)::text, 12, '0'),
           case t.type
             when 'CommentUpdated' then jsonb_build_object('type', t.type, 'newComment', 'comment ' || k, 'updatedAt', now())
             when 'TagsModified' then jsonb_build_object('type', t.type, 'oldTags', '[]'::jsonb, 'newTags', jsonb_build_array('t' || (k % 10), 'x' || (k % 7)), 'modifiedAt', now())
             when 'AliasesModified' then jsonb_build_object('type', t.type, 'oldAliases', '[]'::jsonb, 'newAliases', jsonb_build_array('alias' || k || '.bench.example'), 'modifiedAt', now())
             else jsonb_build_object('type', t.type, 'oldIp', '', 'newIp', '10.' || 100 + (k % 100) || '.' || ((k >> 8) & 255) || '.' || (k & 255), 'changedAt', now())
           end,
           now() - interval '20 days' + k * interval '1 ms'
    from generate_series(1, ${CHANGES}) k,
         lateral (select (array['CommentUpdated', 'TagsModified', 'AliasesModified', 'IpAddressChanged'])[k % 4 + 1] as type) t`);
  log(`  ${CHANGES} changes`);
  await sql.unsafe(`
    insert into hosts.host_events (event_id, aggregate_id, event_type, event_version, event, created_at)
    select 'e' || (${CREATED + CHANGES} + g), 'h' || lpad((${LIVE} + g)::text, 6, '0'), 'HostDeleted', lpad((${CREATED + CHANGES} + g)::text, 12, '0'),
           jsonb_build_object('type', 'HostDeleted', 'ipAddress', '', 'hostname', '', 'deletedAt', now()),
           now() - interval '10 days' + g * interval '1 ms'
    from generate_series(1, ${CREATED - LIVE}) g`);
  await sql.unsafe('alter table hosts.host_events enable trigger user');
  const [{ live }] = await sql.unsafe('select hosts.rebuild_projection() as live');
  await sql.unsafe('analyze hosts.host_events; analyze hosts.hosts; analyze hosts.streams');
  const [{ events }] = await sql.unsafe('select count(*)::int as events from hosts.host_events');
  log(`  ${events} events, ${live} live hosts (loaded and rebuilt in ${((now() - started) / 1000).toFixed(1)} s)`);
  if (Number(live) !== LIVE || events !== CREATED + CHANGES + (CREATED - LIVE))
    throw new Error(`unexpected data: ${events} events, ${live} live`);
}

/**
 * The server's share of a bulk import, as psql statements: the import's rows from files into
 * the hosts tables in one transaction, triggers off, the keys and indexes of host_events and
 * hosts dropped first and built after (what pgstore's bulk path does). Definitions come from
 * the catalog, so they follow the migrations.
 */
async function bulkLoadScript(connect, url) {
  const db = await connect({ databaseUrl: url, env: {}, max: 1 });
  try {
    const keys =
      await db.sql.unsafe(`select conrelid::regclass::text as tbl, quote_ident(conname) as name, pg_get_constraintdef(oid) as def
      from pg_constraint where conrelid in ('hosts.host_events'::regclass, 'hosts.hosts'::regclass) and contype in ('p', 'u') order by 1, 2`);
    const indexes =
      await db.sql.unsafe(`select indexrelid::regclass::text as name, pg_get_indexdef(indexrelid) as def from pg_index i
      where indrelid in ('hosts.host_events'::regclass, 'hosts.hosts'::regclass) and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid) order by 1`);
    return (files) => [
      'begin',
      'alter table hosts.host_events disable trigger user',
      ...keys.map((k) => `alter table ${k.tbl} drop constraint ${k.name}`),
      ...indexes.map((i) => `drop index ${i.name}`),
      ...Object.entries(files).map(([table, file]) => `\\copy ${table} from '${file}'`),
      ...keys.map((k) => `alter table ${k.tbl} add constraint ${k.name} ${k.def}`),
      ...indexes.map((i) => i.def),
      'alter table hosts.host_events enable trigger user',
      'commit',
    ];
  } finally {
    await db.close();
  }
}

/** Times in-process async variants, interleaved like lib.compare. */
async function compareAsync(variants, { runs, warmup, onProgress }) {
  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const v of round % 2 ? [...variants].reverse() : variants) {
      const start = now();
      await v.fn();
      if (round >= warmup) samples[v.name].push(now() - start);
    }
    onProgress?.(round + 1, warmup + runs);
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, summarize(s)]));
}

/**
 * 4. import: `pgstore hosts import` of IMPORT_LINES lines into an empty database, interleaved
 * with psql \copy of the file into a bare table and with the server's floor (bulkLoadScript
 * over the rows the import itself wrote). `db` is a superuser connection to the bench server.
 */
async function measureImport(db, server, connect, work, options) {
  const importFile = join(work, 'import.hosts');
  let text = '';
  for (let i = 0; i < IMPORT_LINES; i++)
    text += `172.${16 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}\tnode${i}.import.example alias${i}.import.example\t# imported ${i} [t${i % 10}]\n`;
  writeFileSync(importFile, text);
  const importDb = `${server.url.replace(/\/pgstore(\?|$)/, '/pgstore_import$1')}`;
  await db.sql.unsafe('create database pgstore_import');
  runPgstore(['migrate', 'up', '-d', importDb], { env: cleanEnv(), timeoutMs: 120_000 });
  const importEnv = cleanEnv({ DATABASE_URL: importDb });
  const p4 = progress('hosts import (100k lines)');
  const importSamples = [];
  const copySamples = [];
  const floorSamples = [];
  const floorScript = await bulkLoadScript(connect, importDb);
  const tableFiles = {
    'hosts.host_events': join(work, 'events.copy'),
    'hosts.streams': join(work, 'streams.copy'),
    'hosts.hosts': join(work, 'hosts.copy'),
  };
  for (let round = 0; round < options.warmup + options.runs; round++) {
    run(
      PSQL,
      [importDb, '-X', '-q', '-c', 'truncate hosts.host_events, hosts.streams, hosts.hosts', '-c', 'checkpoint'],
      { env: cleanEnv() },
    );
    const r = runPgstore(['hosts', 'import', importFile, '--json'], { env: importEnv, timeoutMs: 600_000 });
    const summary = JSON.parse(r.stdout);
    if (summary.created !== IMPORT_LINES)
      throw new Error(`import created ${summary.created} entries, not ${IMPORT_LINES}`);
    const c = run(
      PSQL,
      [
        importDb,
        '-X',
        '-q',
        '-c',
        'create temp table raw (line text)',
        '-c',
        `\\copy raw from '${importFile}' with (delimiter E'\\x1f')`,
      ],
      { env: cleanEnv() },
    );
    if (round === 0) {
      // The rows the import wrote, as files for the floor below (not timed).
      for (const [table, file] of Object.entries(tableFiles))
        run(PSQL, [importDb, '-X', '-q', '-c', `\\copy ${table} to '${file}'`], { env: cleanEnv() });
    }
    run(
      PSQL,
      [importDb, '-X', '-q', '-c', 'truncate hosts.host_events, hosts.streams, hosts.hosts', '-c', 'checkpoint'],
      { env: cleanEnv() },
    );
    const f = run(
      PSQL,
      [importDb, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...floorScript(tableFiles).flatMap((c) => ['-c', c])],
      { env: cleanEnv() },
    );
    if (round >= options.warmup) {
      importSamples.push(r.ms);
      copySamples.push(c.ms);
      floorSamples.push(f.ms);
    }
    p4.update(round + 1, options.warmup + options.runs);
  }
  p4.done();
  return { importSamples, copySamples, floorSamples };
}

/**
 * 5. snapshot create and rollback (SNAPSHOT_HOSTS synthetic hosts in their own database),
 * interleaved with psql COPYing the same rows out as JSON. Two snapshots differ in every
 * entry's comment; each round rolls back to one, then to the other.
 */
async function measureSnapshots(db, server, options) {
  const url = `${server.url.replace(/\/pgstore(\?|$)/, '/pgstore_snapshot$1')}`;
  await db.sql.unsafe('create database pgstore_snapshot');
  const env = cleanEnv({ DATABASE_URL: url });
  runPgstore(['migrate', 'up'], { env, timeoutMs: 120_000 });
  runPgstore(['seed', '--synthetic', '--hosts', String(SNAPSHOT_HOSTS), '--users', '10', '--tenants', '1'], {
    env,
    timeoutMs: 600_000,
  });
  const snap = (args) => JSON.parse(runPgstore(['snapshot', ...args, '--json'], { env, timeoutMs: 600_000 }).stdout);
  const a = snap(['create', '--name', 'bench-a']).snapshot;
  // Every entry's comment changed, as events (the trigger keeps the projection).
  const rollbackTo = (id) =>
    run(NODE, [PGSTORE_BIN, 'snapshot', 'rollback', id, '--yes', '--json'], { env, timeoutMs: 600_000 });
  const exported = runPgstore(['hosts', 'export', '--format', 'jsonl'], { env, timeoutMs: 600_000 }).stdout;
  const changed = exported
    .trimEnd()
    .split('\n')
    .map((l) => {
      const e = JSON.parse(l);
      return JSON.stringify({ ...e, id: undefined, comment: `changed ${e.comment ?? ''}` });
    })
    .join('\n');
  run(NODE, [PGSTORE_BIN, 'hosts', 'import', '-', '--format', 'jsonl', '--mode', 'replace'], {
    env,
    input: `${changed}\n`,
    timeoutMs: 600_000,
  });
  const b = snap(['create', '--name', 'bench-b']).snapshot;
  const floorCopy = `\\copy (select row_to_json(h) from (select * from hosts.hosts order by ip_address, hostname) h) to '/dev/null'`;
  const samples = { create: [], rollback: [], floor: [] };
  const p5 = progress(`snapshot create and rollback (${SNAPSHOT_HOSTS} hosts)`);
  for (let round = 0; round < options.warmup + options.runs; round++) {
    const f = run(PSQL, [url, '-X', '-q', '-c', floorCopy], { env: cleanEnv() });
    const c = run(NODE, [PGSTORE_BIN, 'snapshot', 'create', '--keep-last', '5', '--json'], { env, timeoutMs: 600_000 });
    const r = rollbackTo(round % 2 === 0 ? a.id : b.id);
    const result = JSON.parse(r.stdout);
    if (result.changed < SNAPSHOT_HOSTS * 0.9) throw new Error(`the rollback changed ${result.changed} entries`);
    if (round >= options.warmup) {
      samples.floor.push(f.ms);
      samples.create.push(c.ms);
      samples.rollback.push(r.ms);
    }
    p5.update(round + 1, options.warmup + options.runs);
  }
  p5.done();
  const floor = summarize(samples.floor);
  report(
    'hosts',
    `snapshot create and rollback on ${SNAPSHOT_HOSTS} synthetic hosts (each rollback changes every entry's comment), against psql COPYing the same rows out as JSON`,
    [
      {
        name: 'snapshot-create-vs-copy',
        subject: { label: 'pgstore snapshot create', stats: summarize(samples.create) },
        baseline: { label: 'psql \\copy of the rows as JSON (floor)', stats: floor },
      },
      {
        name: 'snapshot-rollback-vs-copy',
        subject: { label: 'pgstore snapshot rollback --yes (every entry changed)', stats: summarize(samples.rollback) },
        baseline: { label: 'psql \\copy of the rows as JSON (floor)', stats: floor },
      },
    ],
    options,
  );
}

/** The import against the server's floor (issue 15 §1: ≥ 0.85× its speed). */
function reportImport({ importSamples, floorSamples }, options) {
  const [row] = report(
    'hosts',
    "hosts import against the server's floor (psql loading the import's own rows as the bulk path does): target ≥ 0.85× its speed",
    [
      {
        name: 'import-vs-floor',
        subject: { label: `pgstore hosts import (${IMPORT_LINES} lines)`, stats: summarize(importSamples) },
        baseline: { label: 'psql bulk load of the same rows (floor)', stats: summarize(floorSamples) },
        target: { ...ratio(1 / 0.85), text: '≥ 0.85× speed' },
        extra: { linesPerSecond: Math.round(IMPORT_LINES / (summarize(importSamples).median / 1000)) },
      },
    ],
    options,
  );
  console.log(`  import: ${(1 / row.ratio).toFixed(2)}× the floor's speed (target ≥ 0.85×)`);
}

main(async () => {
  const options = benchOptions({ runs: 5, warmup: 1 });
  if (!existsSync(new URL('../../dist/index.js', import.meta.url)))
    throw new Error('dist/ is missing: build first (npx tsc -p tsconfig.json)');
  if (!existsSync(PSQL)) throw new Error(`psql not found at ${PSQL} (set BENCH_PSQL)`);
  const { connect } = await import('../../dist/index.js');
  const log = (m) => process.stderr.write(`${m}\n`);
  const server = await startServer({ log });
  const work = mkdtempSync(join(tmpdir(), 'pgstore-bench-hosts-'));
  let db;
  try {
    runPgstore(['migrate', 'up'], { env: server.env(), timeoutMs: 120_000 });
    db = await connect({ databaseUrl: server.url, env: {}, max: 2 });
    if (process.env.BENCH_ONLY === 'snapshot') {
      await measureSnapshots(db, server, options);
      return;
    }
    if (process.env.BENCH_ONLY === 'import') {
      reportImport(await measureImport(db, server, connect, work, options), options);
      return;
    }
    log(
      `Loading ${CREATED + CHANGES + (CREATED - LIVE)} events as the superuser (triggers off, then rebuild_projection)...`,
    );
    await load(db.sql, log);

    const formatsOnly = process.env.BENCH_ONLY === 'formats';
    // Same rows from both sides (the check is not timed).
    const mine = await db.hosts.listAll();
    const seed = formatsOnly ? mine : await db.sql.unsafe(SEED_LIST);
    if (mine.length !== LIVE || seed.length !== LIVE)
      throw new Error(`row counts differ: listAll ${mine.length}, seed query ${seed.length}`);

    // 1. list, library
    const p1 = progress('listAll vs seed query');
    const lib = formatsOnly
      ? undefined
      : await compareAsync(
          [
            { name: 'seed', fn: () => db.sql.unsafe(SEED_LIST) },
            { name: 'listAll', fn: () => db.hosts.listAll() },
            { name: 'rawProjection', fn: () => db.sql.unsafe(PROJECTION_LIST) },
          ],
          { ...options, onProgress: p1.update },
        );
    p1.done();

    // 2. list, CLI
    const env = cleanEnv({ DATABASE_URL: server.url });
    const p2 = progress('hosts list --json vs psql seed query');
    const cli = formatsOnly
      ? undefined
      : await compare(
          [
            {
              name: 'psql',
              cmd: PSQL,
              args: [server.url, '-X', '-q', '-A', '-t', '-o', '/dev/null', '-c', SEED_LIST],
              env: cleanEnv(),
              timeoutMs: 600_000,
              label: 'psql seed query',
            },
            {
              name: 'cli',
              cmd: NODE,
              args: [PGSTORE_BIN, 'hosts', 'list', '--json'],
              env,
              timeoutMs: 600_000,
              label: 'pgstore hosts list --json',
            },
            {
              name: 'psqlProjection',
              cmd: PSQL,
              args: [server.url, '-X', '-q', '-A', '-t', '-o', '/dev/null', '-c', PROJECTION_LIST],
              env: cleanEnv(),
              timeoutMs: 600_000,
              label: 'psql projection',
            },
          ],
          { ...options, onProgress: p2.update },
        );
    p2.done();

    // 2b. the CLI's formats against the floor, interleaved with it (in-process raw fetch).
    const p2b = progress('hosts list formats vs the raw fetch floor');
    const formats = { json: ['--json'], ndjson: ['--format', 'ndjson'], table: [] };
    const formatSamples = { floor: [], json: [], ndjson: [], table: [], nodeStart: [], psqlJson: [] };
    for (let round = 0; round < options.warmup + options.runs; round++) {
      const start = now();
      await db.sql.unsafe(PROJECTION_LIST);
      const floorMs = now() - start;
      const took = {};
      for (const [name, args] of Object.entries(formats))
        took[name] = run(NODE, [PGSTORE_BIN, 'hosts', 'list', ...args], { env, timeoutMs: 600_000 }).ms;
      // What the floor leaves out: starting node, and (the best a separate process can do) psql
      // streaming the server's own JSON of the same rows with COPY.
      took.nodeStart = run(NODE, ['-e', '0']).ms;
      took.psqlJson = run(PSQL, [server.url, '-X', '-q', '-c', PSQL_JSON_COPY], {
        env: cleanEnv(),
        timeoutMs: 600_000,
      }).ms;
      if (round >= options.warmup) {
        formatSamples.floor.push(floorMs);
        for (const name of [...Object.keys(formats), 'nodeStart', 'psqlJson']) formatSamples[name].push(took[name]);
      }
      p2b.update(round + 1, options.warmup + options.runs);
    }
    p2b.done();
    const floorStats = summarize(formatSamples.floor);
    const formatRows = report(
      'hosts',
      'hosts list formats against the floor (the projection fetched raw by postgres.js in-process, not mapped): target ≤ floor / 0.7',
      Object.keys(formats).map((name) => ({
        name: `list-${name}-vs-floor`,
        subject: {
          label: `pgstore hosts list ${formats[name].join(' ') || '(table)'}`,
          stats: summarize(formatSamples[name]),
        },
        baseline: { label: 'raw postgres.js fetch (floor)', stats: floorStats },
        target: name === 'table' ? undefined : { ...ratio(1 / 0.7), text: '≥ 0.7× speed' },
      })),
      options,
    );
    for (const row of formatRows)
      console.log(
        `  ${row.name}: ${(1 / row.ratio).toFixed(2)}× the floor's speed${row.name.includes('table') ? '' : ' (target ≥ 0.7×)'}`,
      );
    const nodeStart = summarize(formatSamples.nodeStart).median;
    const psqlJson = summarize(formatSamples.psqlJson).median;
    const json = summarize(formatSamples.json).median;
    console.log(
      `  beside them (medians): node -e 0 ${nodeStart.toFixed(0)} ms; psql \\copy of the server's JSON of the same rows ${psqlJson.toFixed(0)} ms (--json ${(psqlJson / json).toFixed(2)}× its speed)`,
    );
    console.log(
      `BENCH ${JSON.stringify({ bench: 'hosts', name: 'list-formats-context', floorMs: Math.round(floorStats.median), nodeStartMs: Math.round(nodeStart), psqlJsonCopyMs: Math.round(psqlJson), jsonMs: Math.round(json) })}`,
    );
    if (process.env.BENCH_ONLY === 'list' || formatsOnly) return;

    // 3. getById
    const ids = Array.from({ length: 1000 }, (_, i) => `h${String(((i * 7919) % LIVE) + 1).padStart(6, '0')}`);
    const byId = [];
    const seedById = [];
    for (const [i, id] of ids.entries()) {
      let start = now();
      await db.hosts.getById(id);
      byId.push(now() - start);
      if (i % 10 === 0) {
        start = now();
        await db.sql.unsafe(SEED_GET, [id]);
        seedById.push(now() - start);
      }
    }

    // 4. import
    const { importSamples, copySamples, floorSamples } = await measureImport(db, server, connect, work, options);

    const rows = report(
      'hosts',
      'hosts: the projection against the seed design on 1,000,000 events (100,000 live hosts)',
      [
        {
          name: 'list-library',
          subject: { label: 'db.hosts.listAll()', stats: lib.listAll },
          baseline: { label: 'seed DISTINCT ON query', stats: lib.seed },
          target: ratio(0.05),
        },
        {
          name: 'list-cli',
          subject: { label: 'pgstore hosts list --json', stats: cli.cli },
          baseline: { label: 'psql -c <seed query>', stats: cli.psql },
          target: ratio(0.05),
        },
        {
          name: 'get-by-id',
          subject: { label: 'db.hosts.getById()', stats: summarize(byId) },
          baseline: { label: 'seed query, one id (filtered first)', stats: summarize(seedById) },
          target: seconds(0.001),
        },
        {
          name: 'import',
          subject: { label: `pgstore hosts import (${IMPORT_LINES} lines)`, stats: summarize(importSamples) },
          baseline: { label: 'psql \\copy into a bare table', stats: summarize(copySamples) },
          target: seconds(IMPORT_LINES / 50_000),
          extra: { linesPerSecond: Math.round(IMPORT_LINES / (summarize(importSamples).median / 1000)) },
        },
      ],
      options,
    );
    const speedup = (r) => (1 / r.ratio).toFixed(1);
    console.log(`\nlist (library): ${speedup(rows[0])}× faster than the seed query (target ≥ 20×)`);
    console.log(`list (CLI --json): ${speedup(rows[1])}× faster than psql running the seed query (target ≥ 20×)`);
    const floorLib = lib.seed.median / lib.rawProjection.median;
    const floorCli = cli.psql.median / cli.psqlProjection.median;
    console.log(
      `  floor: the projection's rows fetched and not even mapped, raw postgres.js ${floorLib.toFixed(1)}× faster than the seed query, psql ${floorCli.toFixed(1)}×`,
    );
    console.log(
      `BENCH ${JSON.stringify({ bench: 'hosts', name: 'list-floor', rawPostgresJsMs: Math.round(lib.rawProjection.median), psqlMs: Math.round(cli.psqlProjection.median), rawSpeedup: Number(floorLib.toFixed(2)), psqlSpeedup: Number(floorCli.toFixed(2)) })}`,
    );
    console.log(
      `getById: median ${summarize(byId).median.toFixed(3)} ms, p90 ${summarize(byId).p90.toFixed(3)} ms (target ≤ 1 ms); seed query for one id: ${summarize(seedById).median.toFixed(2)} ms`,
    );
    console.log(
      `import: ${Math.round(IMPORT_LINES / (summarize(importSamples).median / 1000))} lines/s (target ≥ 50,000 lines/s)`,
    );
    const floor = summarize(floorSamples).median;
    console.log(
      `  floor: psql loading the import's own rows from files as its bulk path does (one transaction, keys and indexes built after): ${(floor / 1000).toFixed(2)} s, ${Math.round(IMPORT_LINES / (floor / 1000))} lines/s`,
    );
    console.log(
      `BENCH ${JSON.stringify({ bench: 'hosts', name: 'import-floor', psqlMs: Math.round(floor), linesPerSecond: Math.round(IMPORT_LINES / (floor / 1000)) })}`,
    );
    reportImport({ importSamples, floorSamples }, options);
    await measureSnapshots(db, server, options);
  } finally {
    await db?.close().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
    server.stop();
  }
});
