/**
 * Promise: concurrent `pgstore setup` runs of the same new database all succeed (exit 0) and
 * leave one correct database: created once, its owner and application roles, its extension,
 * every migration applied, marked development. Each round starts 4 setup processes at once.
 */
import { randomBytes } from 'node:crypto';
import { rawSql } from '../helpers/raw-sql.js';
import { afterAll, describe, it } from 'vitest';
import { inject } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { adminUrlFor } from '../helpers/db.js';
import { MIGRATION_COUNT } from '../helpers/migrations.js';
import { rounds, together, tryPromise } from './harness.js';

const CONTENDERS = 4;
const created: string[] = [];
const admin = () => rawSql(inject('pgServer').adminUrl, { max: 1, onnotice: () => undefined });

afterAll(async () => {
  const sql = admin();
  for (const name of created) {
    await sql.unsafe(`drop database if exists ${name} with (force)`);
    await sql.unsafe(`drop role if exists ${name}_app`);
    await sql.unsafe(`drop role if exists ${name}_owner`);
  }
  await sql.end();
});

async function checkDatabase(name: string): Promise<string | null> {
  const sql = rawSql(adminUrlFor(name), { max: 1, onnotice: () => undefined });
  try {
    const [facts] = await sql<{ owner: string; roles: number; trgm: number; migrations: number; env: string | null }[]>`
      select (select pg_get_userbyid(datdba) from pg_database where datname = current_database()) as owner,
             (select count(*)::int from pg_roles where rolname in (${`${name}_owner`}, ${`${name}_app`})) as roles,
             (select count(*)::int from pg_extension where extname = 'pg_trgm') as trgm,
             (select count(*)::int from public.pgstore_schema_migrations) as migrations,
             (select name from pgstore.environment) as env`;
    if (!facts) return 'no facts';
    if (facts.owner !== `${name}_owner`) return `owner is ${facts.owner}`;
    if (facts.roles !== 2) return `${facts.roles} of 2 roles`;
    if (facts.trgm !== 1) return 'pg_trgm missing';
    if (facts.migrations !== MIGRATION_COUNT) return `${facts.migrations} migrations applied`;
    if (facts.env !== 'development') return `environment ${facts.env}`;
    return null;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

describe('concurrent setup', () => {
  it(`${CONTENDERS} setup processes at once make one correct database`, async () => {
    await tryPromise(
      `${CONTENDERS} concurrent \`pgstore setup\` of a new database all exit 0 and make one correct database`,
      rounds(2, 20),
      async () => {
        const name = `ss_${randomBytes(5).toString('hex')}`;
        created.push(name);
        const env = cleanEnv({ DATABASE_URL: adminUrlFor(name) });
        const results = await together(
          Array.from({ length: CONTENDERS }, () => () => runCli(['setup', '--json'], { env, timeoutMs: 120_000 })),
        );
        const problems: string[] = [];
        let creators = 0;
        for (const r of results) {
          if (r.status === 'rejected') {
            problems.push(String(r.reason));
            continue;
          }
          if (r.value.code !== 0) problems.push(`exit ${r.value.code}: ${r.value.stderr.split('\n')[0]}`);
          else if ((JSON.parse(r.value.stdout) as { databaseCreated: boolean }).databaseCreated) creators++;
        }
        if (problems.length === 0 && creators !== 1) problems.push(`${creators} runs said they created the database`);
        const wrong = await checkDatabase(name).catch((error: Error) => error.message);
        if (wrong) problems.push(wrong);
        return problems.length ? problems.join('; ') : null;
      },
    );
  }, 600_000);
});
