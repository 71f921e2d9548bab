/**
 * Start-up cost of the pgstore binary.
 *
 * 1. `pgstore --version` against bare `node -e 0`: what loading the CLI costs on top of
 *    Node itself. Target: ≤ 1.3× node.
 * 2. `pgstore health --json` against `psql <url> -c 'select 1'` on the same running private
 *    embedded server, once through the embedded default (PGSTORE_HOME/PGSTORE_PORT) and once
 *    through DATABASE_URL. Target: health ≤ 0.25 s median, and ≤ 2× psql (issue 15), printed
 *    beside bare Node's start-up against psql (no Node program can be faster than that).
 * 3. The same health run against its floors: bare `node -e 0`, and select1-floor.cjs (Node,
 *    postgres.js, the connection and one `select 1`: what any Node CLI that checks a database
 *    costs). When node itself is near 2× psql, ≤ 2× psql is out of reach and these say by how much.
 *
 * 4. When NODE_EXTRA_CA_CERTS is set (this development machine sets it), Node 20 reads and parses
 *    that certificate file at every start, before any JavaScript runs: ~60 ms of CPU for a
 *    144-certificate bundle, two thirds of `node -e 0`, which psql does not pay. health, the
 *    floor and node are then measured again without it, in the same runs, so the ratios can be
 *    read both ways.
 * 5. health --json as a user runs it: the package's binary, the sh launcher bin/pgstore, with
 *    the environment as it is. The launcher starts Node without NODE_EXTRA_CA_CERTS (pgstore
 *    loads that file only for a connection that verifies the server's certificate), so it does
 *    not pay item 4's cost; `node bin/pgstore.js` (rows 2-3) does, as before the launcher.
 *
 * Usage: node scripts/bench/startup.js [--runs N] [--warmup N]   (or BENCH_RUNS, BENCH_WARMUP)
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  benchOptions,
  cleanEnv,
  compare,
  main,
  NODE,
  PGSTORE_BIN,
  progress,
  ratio,
  report,
  runPgstore,
  seconds,
  startServer,
} from './lib.js';

const PSQL = process.env.BENCH_PSQL || '/usr/bin/psql';
const FLOOR_SCRIPT = fileURLToPath(new URL('./select1-floor.cjs', import.meta.url));
const EXTRA_CA = !!process.env.NODE_EXTRA_CA_CERTS;
/** The package's binary (package.json "bin"): the sh launcher next to PGSTORE_BIN. */
const LAUNCHER = process.env.BENCH_PGSTORE_LAUNCHER || PGSTORE_BIN.replace(/\.js$/, '');

main(async () => {
  const options = benchOptions({ runs: 30, warmup: 3 });
  if (!existsSync(new URL('../../dist/bundle/cli.cjs', import.meta.url))) {
    throw new Error('dist/bundle/ is missing: build first (npm run build)');
  }

  // 1. --version against bare node -------------------------------------------------------
  const env = cleanEnv();
  const p1 = progress('--version vs node -e 0');
  const startup = await compare(
    [
      { name: 'node', cmd: NODE, args: ['-e', '0'], env },
      {
        name: 'version',
        cmd: NODE,
        args: [PGSTORE_BIN, '--version'],
        env,
        check: (r) => r.status === 0 && /^\d+\.\d+\.\d+/.test(r.stdout),
      },
    ],
    { ...options, onProgress: p1.update },
  );
  p1.done();
  report(
    'startup',
    'startup: pgstore --version against bare node',
    [
      {
        name: 'version',
        subject: { label: 'pgstore --version', stats: startup.version },
        baseline: { label: 'node -e 0', stats: startup.node },
        target: ratio(1.3),
      },
    ],
    options,
  );

  // 2. health --json against psql, on one private server ----------------------------------
  if (!existsSync(PSQL)) throw new Error(`psql not found at ${PSQL} (set BENCH_PSQL)`);
  const server = await startServer();
  try {
    const healthOk = (r) => {
      // Exit 0 (no critical check) with the documented JSON; a critical check would not be
      // a start-up measurement any more.
      if (r.status !== 0) return false;
      try {
        const doc = JSON.parse(r.stdout);
        return typeof doc.status === 'string' && Array.isArray(doc.checks);
      } catch {
        return false;
      }
    };
    const embeddedEnv = server.env();
    const urlEnv = cleanEnv({ DATABASE_URL: server.url });
    const noCaUrlEnv = cleanEnv({ DATABASE_URL: server.url, NODE_EXTRA_CA_CERTS: undefined });

    // One health run first: it must succeed and say where it connected.
    const first = runPgstore(['health', '--json'], { env: embeddedEnv, check: healthOk });
    const status = JSON.parse(first.stdout).status;

    const p2 = progress('health --json vs psql');
    const health = await compare(
      [
        {
          name: 'psql',
          cmd: PSQL,
          args: [server.url, '-X', '-q', '-c', 'select 1'],
          env: cleanEnv(),
          label: 'psql -c "select 1"',
        },
        {
          name: 'health',
          cmd: NODE,
          args: [PGSTORE_BIN, 'health', '--json'],
          env: embeddedEnv,
          check: healthOk,
          label: 'pgstore health --json',
        },
        {
          name: 'floor',
          cmd: NODE,
          args: [FLOOR_SCRIPT],
          env: urlEnv,
          check: (r) => r.status === 0 && r.stdout === 'ok\n',
          label: 'node + postgres.js + select 1',
        },
        {
          name: 'node',
          cmd: NODE,
          args: ['-e', '0'],
          env: cleanEnv(),
          label: 'node -e 0',
        },
        {
          // As a user runs it: the installed binary (the launcher), the environment as it is.
          name: 'healthLauncher',
          cmd: LAUNCHER,
          args: ['health', '--json'],
          env: urlEnv,
          check: healthOk,
          label: 'pgstore health --json (bin/pgstore, the launcher)',
        },
        {
          name: 'healthUrl',
          cmd: NODE,
          args: [PGSTORE_BIN, 'health', '--json'],
          env: urlEnv,
          check: healthOk,
          label: 'DATABASE_URL=… pgstore health --json',
        },
        ...(EXTRA_CA
          ? [
              {
                name: 'healthNoCa',
                cmd: NODE,
                args: [PGSTORE_BIN, 'health', '--json'],
                env: noCaUrlEnv,
                check: healthOk,
                label: 'health --json without NODE_EXTRA_CA_CERTS',
              },
              {
                name: 'floorNoCa',
                cmd: NODE,
                args: [FLOOR_SCRIPT],
                env: noCaUrlEnv,
                check: (r) => r.status === 0 && r.stdout === 'ok\n',
                label: 'floor without NODE_EXTRA_CA_CERTS',
              },
              {
                name: 'nodeNoCa',
                cmd: NODE,
                args: ['-e', '0'],
                env: cleanEnv({ NODE_EXTRA_CA_CERTS: undefined }),
                label: 'node -e 0 without NODE_EXTRA_CA_CERTS',
              },
            ]
          : []),
      ],
      { ...options, onProgress: p2.update },
    );
    p2.done();
    const psql = { label: "psql -c 'select 1'", stats: health.psql };
    report(
      'startup',
      'startup: pgstore health --json against psql on the same running server',
      [
        {
          name: 'health',
          subject: { label: 'health --json (embedded default)', stats: health.health },
          baseline: psql,
          target: seconds(0.25),
          extra: { healthStatus: status },
        },
        {
          name: 'health-database-url',
          subject: { label: 'health --json (DATABASE_URL)', stats: health.healthUrl },
          baseline: psql,
          target: seconds(0.25),
          extra: { healthStatus: status },
        },
        {
          // Issue 15 §1: health within 2× psql, as a user runs it (the package's binary).
          name: 'health-launcher-vs-psql',
          subject: { label: 'bin/pgstore health --json (DATABASE_URL)', stats: health.healthLauncher },
          baseline: psql,
          target: ratio(2),
          extra: { nodeExtraCaCerts: EXTRA_CA },
        },
        {
          // The same through `node bin/pgstore.js` (Node loads NODE_EXTRA_CA_CERTS at start).
          // Bare `node -e 0` is the floor of any Node CLI.
          name: 'health-vs-psql',
          subject: { label: 'node bin/pgstore.js health --json (DATABASE_URL)', stats: health.healthUrl },
          baseline: psql,
          target: ratio(2),
          extra: {
            nodeFloorMs: Math.round(startup.node.median),
            nodeFloorRatio: Number((startup.node.median / health.psql.median).toFixed(2)),
          },
        },
      ],
      options,
    );
    report(
      'startup',
      'startup: pgstore health --json against its floors (same runs as above)',
      [
        {
          name: 'health-vs-node',
          subject: { label: 'health --json (DATABASE_URL)', stats: health.healthUrl },
          baseline: { label: 'node -e 0', stats: health.node },
        },
        {
          name: 'health-vs-floor',
          subject: { label: 'health --json (DATABASE_URL)', stats: health.healthUrl },
          baseline: { label: 'node + postgres.js + select 1', stats: health.floor },
        },
        {
          name: 'floor-vs-psql',
          subject: { label: 'node + postgres.js + select 1', stats: health.floor },
          baseline: psql,
        },
      ],
      options,
    );
    if (EXTRA_CA) {
      const noCa = { label: 'without NODE_EXTRA_CA_CERTS' };
      report(
        'startup',
        'startup: the same without NODE_EXTRA_CA_CERTS (set here; Node parses that file at every start)',
        [
          {
            name: 'health-no-ca-vs-psql',
            subject: { label: `health --json ${noCa.label}`, stats: health.healthNoCa },
            baseline: psql,
            target: ratio(2),
          },
          {
            name: 'health-no-ca-vs-node',
            subject: { label: `health --json ${noCa.label}`, stats: health.healthNoCa },
            baseline: { label: `node -e 0 ${noCa.label}`, stats: health.nodeNoCa },
          },
          {
            name: 'health-no-ca-vs-floor',
            subject: { label: `health --json ${noCa.label}`, stats: health.healthNoCa },
            baseline: { label: `node + postgres.js + select 1 ${noCa.label}`, stats: health.floorNoCa },
          },
        ],
        options,
      );
    }
    console.log(
      `  pgstore health --json as installed (bin/pgstore${EXTRA_CA ? ', NODE_EXTRA_CA_CERTS set' : ''}): ${(health.healthLauncher.median / health.psql.median).toFixed(2)}× psql -c 'select 1'; through node bin/pgstore.js: ${(health.healthUrl.median / health.psql.median).toFixed(2)}×`,
    );
    console.log(
      `  bare node -e 0 is ${(health.node.median / health.psql.median).toFixed(2)}× psql -c 'select 1' on this machine, and node + postgres.js + select 1 ${(health.floor.median / health.psql.median).toFixed(2)}×: the floors of any Node CLI`,
    );
  } finally {
    server.stop();
  }
});
