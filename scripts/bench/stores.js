/**
 * The typed stores against raw postgres.js running the same SQL: session lookup
 * (sessions.get) and API-key verification (appKeys.verify), at concurrency 1 and 16, on the
 * same private server in the same run. Target: store ≥ 0.9× raw ops/s. `pgbench -S` (select
 * only) on the same server is printed as the ceiling reference.
 *
 * Usage: node scripts/bench/stores.js [--seconds S]
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cleanEnv, main, run, runPgstore, startServer, table } from './lib.js';

const PGBENCH = process.env.BENCH_PGBENCH || '/usr/bin/pgbench';

function argSeconds() {
  const i = process.argv.indexOf('--seconds');
  return i > 0 ? Number(process.argv[i + 1]) : Number(process.env.BENCH_SECONDS || 3);
}

/** Runs `op` from `concurrency` workers for `seconds`; returns operations per second. */
async function throughput(op, concurrency, seconds) {
  const until = performance.now() + seconds * 1000;
  let count = 0;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await op(i++);
        count++;
      }
    }),
  );
  return count / seconds;
}

const sha256 = (text) => createHash('sha256').update(text).digest();

main(async () => {
  const seconds = argSeconds();
  const server = await startServer();
  try {
    const url = new URL(server.url);
    url.pathname = '/bench_stores';
    runPgstore(['setup', '--env', 'test'], { env: cleanEnv({ DATABASE_URL: url.toString() }) });
    const { connect } = await import('../../dist/index.js');
    const db = await connect({ databaseUrl: url.toString(), env: {}, max: 16 });
    const raw = db.sql;
    try {
      const { user } = await db.users.getOrCreateByEmail('bench@example.com');
      const tokens = [];
      for (let i = 0; i < 1000; i++)
        tokens.push((await db.sessions.create({ userId: user.id, ttlSeconds: 3600 })).token);
      await db.tenants.create({ id: 'bench', name: 'Bench' });
      await db.apps.create({ tenantId: 'bench', id: 'api', name: 'API', type: 'api' });
      const secrets = [];
      for (let i = 0; i < 100; i++)
        secrets.push((await db.appKeys.create({ tenantId: 'bench', appId: 'api', name: `k${i}` })).secret);

      // The raw side runs the stores' SQL (their column lists imported; verify's statement copied
      // as written in src/store/tenancy/app-keys.ts), so the ratio is the cost of the store itself:
      // argument checks, error mapping, the result's shape.
      const { SESSION_COLUMNS } = await import('../../dist/store/auth/types.js');
      const { appKeyColumns } = await import('../../dist/store/tenancy/app-keys.js');
      const sessionCols = raw.unsafe(SESSION_COLUMNS);
      const verifyCols = raw.unsafe(
        `${appKeyColumns('coalesce((select last_used_at from touched), k.last_used_at)')}, secret_hash as "secretHash"`,
      );
      const workloads = {
        'session lookup': {
          store: (i) => db.sessions.get(tokens[i % tokens.length]),
          raw: async (i) => {
            const [row] =
              await raw`select ${sessionCols} from auth.sessions where token_hash = ${sha256(tokens[i % tokens.length])} and expires_at > now()`;
            return row ?? null;
          },
        },
        'API-key verify': {
          store: (i) => db.appKeys.verify(secrets[i % secrets.length]),
          raw: async (i) => {
            const hash = sha256(secrets[i % secrets.length]);
            const [row] = await raw`
          with k as (
            select a.*, (a.revoked_at is null and (a.expires_at is null or a.expires_at > now())
                         and t.deleted_at is null) as usable
              from tenancy.app_keys a join tenancy.tenants t on t.id = a.tenant_id
             where a.secret_hash = ${hash}
          ), touched as (
            update tenancy.app_keys set last_used_at = now()
             where id in (select id from k where usable)
               and (last_used_at is null or last_used_at < now() - make_interval(secs => ${60}))
            returning last_used_at
          )
          select ${verifyCols} from k where usable`;
            return row && timingSafeEqual(row.secretHash, hash) ? row : null;
          },
        },
      };

      const rows = [];
      const lines = [];
      for (const [name, w] of Object.entries(workloads)) {
        for (const concurrency of [1, 16]) {
          await throughput(w.store, concurrency, 0.5); // warm up
          await throughput(w.raw, concurrency, 0.5);
          // Alternate short slices (store, raw, raw, store, ...) so drift in the machine's load
          // and in the server's caches hits both alike; each side's rate is the median slice.
          const slices = { store: [], raw: [] };
          for (let k = 0; k < 6; k++) {
            const order = k % 2 === 0 ? ['store', 'raw'] : ['raw', 'store'];
            for (const side of order) slices[side].push(await throughput(w[side], concurrency, seconds / 6));
          }
          const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
          const storeOps = mid(slices.store);
          const rawOps = mid(slices.raw);
          const ratio = storeOps / rawOps;
          rows.push([
            name,
            String(concurrency),
            storeOps.toFixed(0),
            rawOps.toFixed(0),
            `${ratio.toFixed(2)}×`,
            '≥ 0.9×',
            ratio >= 0.9 ? 'PASS' : 'MISS',
          ]);
          lines.push({
            bench: 'stores',
            name: `${name} c${concurrency}`,
            storeOpsPerSec: Math.round(storeOps),
            rawOpsPerSec: Math.round(rawOps),
            ratio: Number(ratio.toFixed(3)),
            target: 0.9,
            pass: ratio >= 0.9,
          });
        }
      }
      console.log(
        `\nstores: the typed stores against raw postgres.js with the same SQL (${seconds} s per measurement; ops/s)`,
      );
      console.log(table(['workload', 'concurrency', 'store ops/s', 'raw ops/s', 'ratio', 'target', 'result'], rows));

      if (existsSync(PGBENCH)) {
        const env = cleanEnv();
        run(PGBENCH, ['-i', '-q', '-s', '1', url.toString()], { env, timeoutMs: 120_000 });
        const ceiling = [];
        for (const c of [1, 16]) {
          const r = run(
            PGBENCH,
            ['-S', '-n', '-c', String(c), '-j', String(Math.min(c, 2)), '-T', String(seconds), url.toString()],
            { env, timeoutMs: (seconds + 60) * 1000 },
          );
          const tps = Number(/tps = ([\d.]+)/.exec(r.stdout)?.[1] ?? 0);
          ceiling.push([`pgbench -S`, String(c), tps.toFixed(0)]);
          lines.push({ bench: 'stores', name: `pgbench -S c${c}`, opsPerSec: Math.round(tps), reference: true });
        }
        console.log('\nceiling reference: pgbench -S (select by primary key, C client) on the same server');
        console.log(table(['reference', 'concurrency', 'ops/s'], ceiling));
      } else {
        console.log(`\n(pgbench not found at ${PGBENCH}: no ceiling reference)`);
      }
      for (const line of lines) console.log(`BENCH ${JSON.stringify(line)}`);
    } finally {
      await db.close();
    }
  } finally {
    server.stop();
  }
});
