/**
 * The physical floor of any Node.js tool that runs dbmate under a migration lock, for
 * scripts/bench/migrate.js: Node starts, loads postgres.js, connects, takes an advisory lock in
 * the same round trip as nothing else, runs dbmate with the arguments given, releases the lock
 * and exits. No checks, no checksums, no history of its own, no lint, no output: less than any
 * such tool can do safely. What it costs above `node -e 0` + dbmate is the part of pgstore's
 * own cost that no wrapper of dbmate can avoid.
 *
 * Usage: DATABASE_URL=... node scripts/bench/locking-wrapper.cjs <dbmate> [dbmate args...]
 */
'use strict';
const { spawnSync } = require('node:child_process');
const postgres = require('postgres');

async function main() {
  const [dbmate, ...args] = process.argv.slice(2);
  const sql = postgres(process.env.DATABASE_URL, { max: 1, fetch_types: false, onnotice: () => {} });
  try {
    await sql`select pg_advisory_lock(hashtextextended('bench:migrate', 0))`;
    const run = spawnSync(dbmate, args, { stdio: 'ignore', env: process.env });
    if (run.status !== 0) throw new Error(`dbmate exited with ${run.status}`);
    await sql`select pg_advisory_unlock(hashtextextended('bench:migrate', 0))`;
  } finally {
    await sql.end({ timeout: 0 });
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
