/**
 * Replica routing (issue 14 §6): a private primary + streaming standby (the embedded binaries
 * and pg_basebackup, as test/helpers/standby.ts), then
 *   1. a read-heavy store workload (95% reads: users.get / users.list; 5% users.update), 16
 *      clients, on the primary alone against with the replica (each client a clientScope, so
 *      it reads its own writes); and 100% reads the same way;
 *   2. the cost of the read-your-writes gate: replica reads with a gate pipelined before every
 *      read against plain replica reads (target ≤ 1.10× the time per read), at 1 and 16 clients;
 *      then as an application pays it (a 95/5 mix, and a read right after the client's own
 *      write), with how many gates ran and how many were skipped (a connection that already
 *      proved the position needed: src/db/replica-connection.ts);
 *   3. pg_current_wal_insert_lsn() against pg_current_wal_lsn() (the position after a write).
 * Both servers share this machine's CPU: a replica here adds no cores, so (1) shows the
 * routing's overhead and share, not the scale-out a second machine gives.
 *
 * Usage: node scripts/bench/replicas.js [--seconds S]
 */
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, main, table } from './lib.js';

const D = '../../dist';
const seconds = (() => {
  const i = process.argv.indexOf('--seconds');
  return i > 0 ? Number(process.argv[i + 1]) : Number(process.env.BENCH_SECONDS || 3);
})();

/** Runs `op` from `concurrency` workers for `seconds`; returns operations per second. */
async function throughput(op, concurrency, secs = seconds) {
  const until = performance.now() + secs * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const state = {};
      while (performance.now() < until) {
        await op(worker, count, state);
        count++;
      }
    }),
  );
  return count / secs;
}

/** The primary and its standby in a temporary folder; `stop` removes everything. */
async function startPair() {
  const { ensureEmbedded, stopEmbedded, embeddedLayout, serverAccount } = await import(`${D}/db/embedded.js`);
  const { withAdminSql } = await import(`${D}/db/pool.js`);
  const { runTool } = await import(`${D}/tools/run.js`);
  const { DEFAULT_POOL, connectionUrl } = await import(`${D}/db/config.js`);
  const root = mkdtempSync(join(tmpdir(), 'pgstore-bench-pair-'));
  const account = serverAccount(process.env);
  if (account) chownSync(root, account.uid, account.gid);
  const ports = { primary: await freePort(), standby: await freePort() };
  const target = (name, port) => ({
    kind: 'embedded',
    source: 'embedded',
    home: join(root, name),
    port,
    database: 'postgres',
    pool: DEFAULT_POOL,
    serverUser: process.env.PGSTORE_SERVER_USER,
  });
  const primaryTarget = target('primary', ports.primary);
  const standbyTarget = target('standby', ports.standby);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopEmbedded(standbyTarget).catch(() => undefined);
    await stopEmbedded(primaryTarget).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const conn = await ensureEmbedded(primaryTarget, { stopWhenProcessDies: process.pid });
    // As the test servers: nothing waits for the disk (but commits stay synchronous, the default).
    await withAdminSql(conn, (sql) =>
      sql.unsafe(`alter system set fsync = off`).then(() => sql.unsafe('select pg_reload_conf()')),
    );
    mkdirSync(standbyTarget.home, { mode: 0o700 });
    if (account) chownSync(standbyTarget.home, account.uid, account.gid);
    const layout = embeddedLayout(standbyTarget.home, ports.standby);
    const result = await runTool(
      'pg_basebackup',
      [
        '-d',
        `host=127.0.0.1 port=${ports.primary} user=${conn.user}`,
        '-D',
        layout.dataDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '--no-sync',
      ],
      {
        env: { PGPASSWORD: conn.password },
        uid: account?.uid,
        gid: account?.gid,
        cwd: standbyTarget.home,
        timeoutMs: 60_000,
        allowFailure: true,
        tailLines: 6,
      },
    );
    if (result.failed) throw new Error(`pg_basebackup failed: ${result.stderr}`);
    appendFileSync(
      join(layout.dataDir, 'postgresql.conf'),
      `\nport = ${ports.standby}\nunix_socket_directories = '${layout.socketDir}'\nhot_standby_feedback = on\n`,
    );
    writeFileSync(layout.passwordFile, `${conn.password}\n`, { mode: 0o600 });
    if (account) chownSync(layout.passwordFile, account.uid, account.gid);
    const standby = await ensureEmbedded(standbyTarget, { stopWhenProcessDies: process.pid });
    const url = (c, db) => connectionUrl({ ...c, database: db, sslmode: 'disable' });
    return {
      primaryUrl: (db) => url(conn, db),
      standbyUrl: (db) => url({ ...standby, password: conn.password }, db),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Counters from `before` to `after` (replicaStats()). */
function since(before, after) {
  const fallbacks = {};
  for (const k of Object.keys(after.fallbacks)) fallbacks[k] = after.fallbacks[k] - (before.fallbacks[k] ?? 0);
  return {
    replicaReads: after.replicaReads - before.replicaReads,
    primaryReads: after.primaryReads - before.primaryReads,
    gates: after.gates - before.gates,
    skippedGates: after.skippedGates - before.skippedGates,
    fallbacks,
  };
}

function addStats(a, b) {
  if (!a) return b;
  const fallbacks = {};
  for (const k of Object.keys(b.fallbacks)) fallbacks[k] = (a.fallbacks[k] ?? 0) + b.fallbacks[k];
  return {
    replicaReads: a.replicaReads + b.replicaReads,
    primaryReads: a.primaryReads + b.primaryReads,
    gates: a.gates + b.gates,
    skippedGates: a.skippedGates + b.skippedGates,
    fallbacks,
  };
}

/** Gates run and skipped, and the share of replica reads that skipped one. */
function checks(s) {
  return {
    replicaReads: s.replicaReads,
    primaryReads: s.primaryReads,
    gates: s.gates,
    skippedGates: s.skippedGates,
    skippedShare: s.gates + s.skippedGates > 0 ? Number((s.skippedGates / (s.gates + s.skippedGates)).toFixed(3)) : 0,
  };
}

function describeStats(s) {
  const c = checks(s);
  const fallbacks = Object.entries(s.fallbacks)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `${s.replicaReads} on the replica, ${s.primaryReads} on the primary (${fallbacks || 'no fallbacks'}); ` +
    `checks: ${c.gates} run, ${c.skippedGates} skipped (${(c.skippedShare * 100).toFixed(1)}% of replica checks)`
  );
}

main(async () => {
  console.log(
    `Starting a primary + streaming standby (both on this machine, sharing its ${(await import('node:os')).availableParallelism()} cores)...`,
  );
  const pair = await startPair();
  try {
    const { connect } = await import(`${D}/index.js`);
    const { migrateUp } = await import(`${D}/core/migrate/index.js`);
    const { resolveConnection } = await import(`${D}/db/config.js`);
    const admin = await connect({ databaseUrl: pair.primaryUrl('postgres'), env: {}, max: 1 });
    await admin.sql`create database bench_replicas`;
    await admin.close();
    await migrateUp({
      target: resolveConnection({ databaseUrl: pair.primaryUrl('bench_replicas'), env: {} }),
      env: {},
    });
    const primaryOnly = await connect({ databaseUrl: pair.primaryUrl('bench_replicas'), env: {}, max: 16 });
    const ids = [];
    for (let i = 0; i < 2000; i++)
      ids.push((await primaryOnly.users.create({ email: `u${i}@example.com`, name: `User ${i}` })).id);
    const routed = await connect({
      databaseUrl: pair.primaryUrl('bench_replicas'),
      replicaUrl: pair.standbyUrl('bench_replicas'),
      env: {},
      max: 16,
    });
    // Wait until the standby has the users (its first gated read proves it).
    for (
      let tries = 0;
      !(await routed
        .onReplica({ after: await primaryOnly.sql`select pg_current_wal_insert_lsn()::text as l`.then((r) => r[0].l) })
        .users.get(ids.at(-1)));
      tries++
    ) {
      if (tries > 200) throw new Error('the standby did not catch up');
      await new Promise((r) => setTimeout(r, 50));
    }

    const pick = (n) => ids[Math.floor(Math.random() * ids.length) + 0 * n];
    const mixed = (writeShare) => (stores, reads) => async (worker, n) => {
      const r = Math.random();
      if (r < writeShare) return stores(worker).users.update(pick(n), { name: `Renamed ${n}` });
      return r < (1 + writeShare) / 2 ? reads(worker).users.get(pick(n)) : reads(worker).users.list({ limit: 20 });
    };
    const scopes = Array.from({ length: 16 }, () => routed.clientScope());
    const rows = [];
    const results = [];
    for (const [label, share] of [
      ['95% reads, 5% writes', 0.05],
      ['100% reads', 0],
    ]) {
      const runs = { primary: [], replica: [] };
      for (let round = 0; round < 3; round++) {
        runs.primary.push(
          await throughput(
            mixed(share)(
              () => primaryOnly,
              () => primaryOnly,
            ),
            16,
          ),
        );
        runs.replica.push(
          await throughput(
            mixed(share)(
              (w) => scopes[w],
              (w) => scopes[w].replica,
            ),
            16,
          ),
        );
      }
      const med = (xs) => xs.sort((a, b) => a - b)[1];
      rows.push([label, 'primary alone', med(runs.primary).toFixed(0), '—']);
      rows.push([
        label,
        'with replica',
        med(runs.replica).toFixed(0),
        `${(med(runs.replica) / med(runs.primary)).toFixed(2)}×`,
      ]);
      results.push({
        bench: 'replicas',
        name: `workload ${label}`,
        primaryOps: Math.round(med(runs.primary)),
        replicaOps: Math.round(med(runs.replica)),
      });
    }
    const stats = routed.replicaStats();
    console.log(`\n1. Read-heavy store workload, 16 clients, ${seconds} s × 3 rounds each (median), ops/s`);
    console.log(table(['workload', 'reads on', 'ops/s', 'vs primary'], rows));
    console.log(`   replica-routed reads: ${describeStats(stats)}`);

    // 2. The gate's cost: the same router with a gate before every read, against the cached path.
    const { ReplicaRouter } = await import(`${D}/db/replicas.js`);
    const { openReplicaPools, resolveReplicas } = await import(`${D}/db/replica-config.js`);
    const { replicaStores } = await import(`${D}/store/replica-reads.js`);
    const { createUsersStore } = await import(`${D}/store/auth/index.js`);
    const pools = await openReplicaPools(resolveReplicas(pair.standbyUrl('bench_replicas'), {}, 'bench'), {
      timeoutMs: 2000,
      max: 16,
    });
    const plain = replicaStores((call) => plainRouter.read(call));
    const gated = replicaStores((call) => gatedRouter.read(call));
    const plainRouter = new ReplicaRouter(primaryOnly.sql, pools, {});
    const gatedRouter = new ReplicaRouter(primaryOnly.sql, pools, { gateEveryRead: true });
    const gateRows = [];
    for (const concurrency of [1, 16]) {
      const p = [];
      const g = [];
      const r = [];
      for (let round = 0; round < 3; round++) {
        p.push(await throughput((_w, n) => plain.users.get(pick(n)), concurrency));
        g.push(await throughput((_w, n) => gated.users.get(pick(n)), concurrency));
        // One replica connection straight (no router): how much of the cost is the routing.
        r.push(
          await throughput(
            (w, n) => createUsersStore(pools[0].connections[w % pools[0].connections.length].sql).get(pick(n)),
            concurrency,
          ),
        );
      }
      const mp = p.sort((a, b) => a - b)[1];
      const mg = g.sort((a, b) => a - b)[1];
      const mr = r.sort((a, b) => a - b)[1];
      const cost = mp / mg; // time per read, gated over plain
      gateRows.push([
        String(concurrency),
        mp.toFixed(0),
        mr.toFixed(0),
        mg.toFixed(0),
        `${cost.toFixed(3)}×`,
        '≤ 1.10×',
        cost <= 1.1 ? 'PASS' : 'MISS',
      ]);
      results.push({
        bench: 'replicas',
        name: `gate cost c=${concurrency}`,
        plainOps: Math.round(mp),
        gatedOps: Math.round(mg),
        ratio: Number(cost.toFixed(3)),
        target: 1.1,
        pass: cost <= 1.1,
      });
    }
    // The check as an application pays it: 5% writes, each client reading its own writes
    // (gates only when the cache cannot prove freshness) against the same mix with reads that
    // never check (they may miss the client's own writes).
    const ryw = [];
    const noCheck = [];
    const mixBefore = routed.replicaStats();
    for (let round = 0; round < 3; round++) {
      ryw.push(
        await throughput(
          mixed(0.05)(
            (w) => scopes[w],
            (w) => scopes[w].replica,
          ),
          16,
        ),
      );
      noCheck.push(
        await throughput(
          mixed(0.05)(
            () => primaryOnly,
            () => plain,
          ),
          16,
        ),
      );
    }
    const mixStats = since(mixBefore, routed.replicaStats());
    const mRyw = ryw.sort((a, b) => a - b)[1];
    const mNo = noCheck.sort((a, b) => a - b)[1];
    gateRows.push([
      '16, 95/5 mix',
      mNo.toFixed(0),
      '—',
      mRyw.toFixed(0),
      `${(mNo / mRyw).toFixed(3)}×`,
      '≤ 1.10×',
      mNo / mRyw <= 1.1 ? 'PASS' : 'MISS',
    ]);
    results.push({
      bench: 'replicas',
      name: 'read-your-writes in a 95/5 mix',
      plainOps: Math.round(mNo),
      checkedOps: Math.round(mRyw),
      ratio: Number((mNo / mRyw).toFixed(3)),
      target: 1.1,
      pass: mNo / mRyw <= 1.1,
    });
    // A read right after the client's own write, the case read-your-writes is for: each client
    // renames its own user, then reads it back; only the read is timed. Checked: the client's
    // scope (the router decides: primary, or a replica proven to have replayed the write);
    // unchecked: a plain replica read, which may miss the write (counted as stale).
    const afterWrite = async (reads) => {
      let readMs = 0;
      let count = 0;
      let stale = 0;
      await throughput(async (w, n) => {
        const name = `After ${w} ${n}`;
        await scopes[w].users.update(ids[w], { name });
        const t0 = performance.now();
        const user = await reads(w).users.get(ids[w]);
        readMs += performance.now() - t0;
        count++;
        if (user?.name !== name) stale++;
      }, 16);
      return { perRead: readMs / count, stale, count };
    };
    const checkedRuns = [];
    const uncheckedRuns = [];
    let afterWriteStats;
    for (let round = 0; round < 3; round++) {
      const before = routed.replicaStats();
      checkedRuns.push(await afterWrite((w) => scopes[w].replica));
      afterWriteStats = addStats(afterWriteStats, since(before, routed.replicaStats()));
      uncheckedRuns.push(await afterWrite(() => plain));
    }
    const medRun = (xs) => [...xs].sort((a, b) => a.perRead - b.perRead)[1];
    const mChecked = medRun(checkedRuns);
    const mUnchecked = medRun(uncheckedRuns);
    const rawRatio = mChecked.perRead / mUnchecked.perRead;
    const staleOf = (xs) => `${xs.reduce((a, x) => a + x.stale, 0)} of ${xs.reduce((a, x) => a + x.count, 0)}`;
    gateRows.push([
      '16, read after own write',
      `${mUnchecked.perRead.toFixed(2)} ms/read`,
      '—',
      `${mChecked.perRead.toFixed(2)} ms/read`,
      `${rawRatio.toFixed(3)}×`,
      '≤ 1.10×',
      rawRatio <= 1.1 ? 'PASS' : 'MISS',
    ]);
    results.push({
      bench: 'replicas',
      name: 'read after own write',
      uncheckedMsPerRead: Number(mUnchecked.perRead.toFixed(3)),
      checkedMsPerRead: Number(mChecked.perRead.toFixed(3)),
      ratio: Number(rawRatio.toFixed(3)),
      uncheckedStale: staleOf(uncheckedRuns),
      checkedStale: staleOf(checkedRuns),
      target: 1.1,
      pass: rawRatio <= 1.1,
    });
    const gs = gatedRouter.stats();
    console.log(
      `\n2. Read-your-writes gate (pipelined before the read, one round trip) vs a plain replica read: users.get (rows 1, 16: a gate before every read; last row: the workload mix, gates only when needed), ${seconds} s × 3 rounds (median)`,
    );
    console.log(
      table(
        ['clients', 'plain ops/s', 'one connection, no router', 'gated ops/s', 'time per read', 'target', 'result'],
        gateRows,
      ),
    );
    console.log(`   gated router (a gate before every read): ${describeStats(gs)}`);
    console.log(`   plain router: ${describeStats(plainRouter.stats())}`);
    console.log(`   95/5 mix, checked reads (3 rounds): ${describeStats(mixStats)}`);
    console.log(`   read after own write, checked reads (3 rounds): ${describeStats(afterWriteStats)}`);
    console.log(
      `   read after own write: unchecked replica reads that missed the write ${staleOf(uncheckedRuns)}; checked ${staleOf(checkedRuns)}`,
    );

    // 3. The position after a write.
    const lsnRows = [];
    for (const fn of ['pg_current_wal_insert_lsn', 'pg_current_wal_lsn']) {
      const ops = await throughput(() => primaryOnly.sql.unsafe(`select ${fn}()::text`), 1);
      lsnRows.push([`${fn}()`, ops.toFixed(0)]);
      results.push({ bench: 'replicas', name: fn, ops: Math.round(ops) });
    }
    console.log(`\n3. The primary's position after a write, 1 client, ops/s`);
    console.log(table(['function', 'ops/s'], lsnRows));
    results.push({ bench: 'replicas', name: 'checks in the 95/5 mix', ...checks(mixStats) });
    results.push({ bench: 'replicas', name: 'checks after own write', ...checks(afterWriteStats) });
    for (const r of results) console.log(`BENCH ${JSON.stringify(r)}`);
    await plainRouter.close();
    await routed.close();
    await primaryOnly.close();
  } finally {
    await pair.stop();
  }
});
