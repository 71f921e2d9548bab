/**
 * `pgstore setup --print-citus-plan`: the plan from the catalog, as SQL (through the built
 * binary) or JSON, and nothing done to the database; the JSON and the refusal run the CLI's
 * entry in-process (test/helpers/cli-in-process.ts).
 */
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { emptyDatabases, useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
const emptyDatabase = emptyDatabases();
const run = (url: string, args: string[], cli = runCliInProcess) =>
  cli(['setup', '--print-citus-plan', ...args], { env: cleanEnv({ DATABASE_URL: url }) });

describe('pgstore setup --print-citus-plan', () => {
  it('prints the calls in foreign-key order and changes nothing', async () => {
    const before = await db.sql`select rolname from pg_roles where rolname like ${`${db.name}%`}`;
    const result = await run(db.url, [], runCli);
    expect(result.code, result.stderr).toBe(0);
    const statements = result.stdout.split('\n').filter((l) => l.startsWith('select ') || l.startsWith('set '));
    expect(statements).toEqual([
      'set citus.enable_unsafe_triggers = on;',
      "select create_reference_table('auth.users');",
      "select create_reference_table('tenancy.tenants');",
      "select create_distributed_table('tenancy.apps', 'tenant_id', colocate_with => 'none');",
      "select create_distributed_table('tenancy.branches', 'tenant_id', colocate_with => 'tenancy.apps');",
      "select create_distributed_table('tenancy.memberships', 'tenant_id', colocate_with => 'tenancy.apps');",
      "select create_distributed_table('tenancy.app_keys', 'tenant_id', colocate_with => 'tenancy.apps');",
      "select create_distributed_table('tenancy.user_apps', 'tenant_id', colocate_with => 'tenancy.apps');",
    ]);
    expect(result.stdout).toMatch(/^-- Local, on the coordinator: .*auth\.sessions/m);
    // Not a setup run: no roles were created for the database.
    expect(await db.sql`select rolname from pg_roles where rolname like ${`${db.name}%`}`).toEqual(before);
  });

  it('--json gives the plan as data', async () => {
    const result = await run(db.url, ['--json']);
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan).toMatchObject({
      database: db.name,
      distributionColumn: 'tenant_id',
      reference: ['auth.users', 'tenancy.tenants'],
      unclassified: [],
      problems: [],
    });
    expect(plan.distributed[0]).toEqual({ table: 'tenancy.apps', colocateWith: 'none' });
    expect(plan.triggers.map((t: { trigger: string }) => t.trigger)).toContain('set_updated_at');
  });

  it("on a database without pgstore's schema: one line, a hint, exit 1", async () => {
    const empty = await emptyDatabase();
    const result = await run(empty.url, []);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /is not ready for Citus: \d+ of pgstore's tables are missing \(tenancy\.tenants, tenancy\.apps, tenancy\.branches and \d+ more\)\n/,
    );
    expect(result.stderr).toMatch(/pgstore migrate up/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
