/**
 * The floor of any Node CLI that checks a database with postgres.js: start Node, load the
 * driver, connect (the same scram handshake) and run `select 1`, nothing else. The start-up
 * bench (startup.js) compares `pgstore health --json` with this and with bare `node -e 0`.
 *
 * Usage: DATABASE_URL=postgres://... node scripts/bench/select1-floor.cjs
 */
const postgres = require('postgres');

const sql = postgres(process.env.DATABASE_URL, { max: 1, fetch_types: false, onnotice: () => undefined });
sql`select 1`
  .then(() => sql.end({ timeout: 0 }))
  .then(
    () => process.stdout.write('ok\n'),
    (error) => {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
    },
  );
