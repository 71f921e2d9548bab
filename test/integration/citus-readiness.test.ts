/**
 * Citus readiness, proven on plain PostgreSQL from pg_catalog: for the placement of every table
 * in src/store/tenancy/distribution.ts, the schema obeys the rules Citus enforces when the
 * tables are distributed (README, "Citus readiness", gives each rule's source).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCitusPlan, citusPlanScript, citusReadinessProblems } from '../../src/core/setup/index.js';
import { type CitusCatalog, readCitusCatalog } from '../../src/store/admin/index.js';
import { ALLOWED_ROW_TRIGGERS, DISTRIBUTION_COLUMN, TABLE_PLACEMENT } from '../../src/store/tenancy/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let catalog: CitusCatalog;
const kind = (table: string) => TABLE_PLACEMENT[table]?.kind;
const T = DISTRIBUTION_COLUMN;

beforeAll(async () => {
  catalog = await readCitusCatalog(db.sql);
});

/** Runs `fn` in a transaction that is always rolled back, and returns what it returned. */
async function inRolledBack<R>(fn: (tx: typeof db.sql) => Promise<R>): Promise<R> {
  let result: R | undefined;
  await db.sql
    .begin(async (tx) => {
      result = await fn(tx as unknown as typeof db.sql);
      throw new Error('roll back');
    })
    .catch((error: Error) => {
      if (error.message !== 'roll back') throw error;
    });
  return result!;
}

describe('Citus readiness of the schema (pg_catalog)', () => {
  it('every table of the database has a placement, and every placed table exists', () => {
    const names = catalog.tables.map((t) => t.name);
    expect(
      names.filter((n) => !TABLE_PLACEMENT[n]),
      'tables without a decision in distribution.ts',
    ).toEqual([]);
    expect(Object.keys(TABLE_PLACEMENT).filter((n) => !names.includes(n))).toEqual([]);
    expect(names).toContain('tenancy.app_keys');
  });

  it(`each distributed table has ${T}, and each of its primary keys and unique indexes contains it`, () => {
    const distributed = catalog.tables.filter((t) => kind(t.name) === 'distributed');
    expect(distributed.map((t) => t.name).sort()).toEqual([
      'tenancy.app_keys',
      'tenancy.apps',
      'tenancy.branches',
      'tenancy.memberships',
      'tenancy.user_apps',
    ]);
    for (const table of distributed) expect(table.columns, table.name).toContain(T);
    const uniques = catalog.uniqueIndexes.filter((u) => kind(u.table) === 'distributed');
    expect(uniques.length).toBeGreaterThanOrEqual(10);
    expect(uniques.filter((u) => !u.columns.includes(T)).map((u) => u.definition)).toEqual([]);
  });

  it(`each foreign key between distributed tables pairs ${T} with ${T}, and none sets it null or cascades an update`, () => {
    const between = catalog.foreignKeys.filter(
      (fk) => kind(fk.table) === 'distributed' && kind(fk.references) === 'distributed',
    );
    expect(between.length).toBeGreaterThanOrEqual(5);
    for (const fk of between) {
      const at = fk.columns.indexOf(T);
      expect(at, fk.constraint).toBeGreaterThanOrEqual(0);
      expect(fk.referencedColumns[at], fk.constraint).toBe(T);
    }
    const fromDistributed = catalog.foreignKeys.filter(
      (fk) => kind(fk.table) === 'distributed' && fk.columns.includes(T),
    );
    expect(
      fromDistributed
        .filter((fk) => 'nd'.includes(fk.onDelete) || 'ndc'.includes(fk.onUpdate))
        .map((fk) => fk.constraint),
    ).toEqual([]);
    expect(
      catalog.foreignKeys
        .filter((fk) => kind(fk.table) === 'distributed' && kind(fk.references) === 'local')
        .map((fk) => fk.constraint),
    ).toEqual([]);
  });

  it('no foreign key points from a reference or local table to a distributed one', () => {
    const wrong = catalog.foreignKeys.filter(
      (fk) => kind(fk.table) !== 'distributed' && kind(fk.references) === 'distributed',
    );
    expect(wrong.map((fk) => `${fk.table}.${fk.constraint}`)).toEqual([]);
    expect(
      catalog.foreignKeys
        .filter((fk) => kind(fk.table) === 'reference' && kind(fk.references) !== 'reference')
        .map((fk) => fk.constraint),
    ).toEqual([]);
  });

  it('lists the row triggers of distributed and reference tables: each is allowed, with a reason', () => {
    const onCitusTables = catalog.rowTriggers.filter(
      (t) => kind(t.table) === 'distributed' || kind(t.table) === 'reference',
    );
    expect(onCitusTables.map((t) => `${t.table}.${t.trigger}`).sort()).toEqual(
      Object.keys(ALLOWED_ROW_TRIGGERS).sort(),
    );
    for (const t of onCitusTables)
      expect(ALLOWED_ROW_TRIGGERS[`${t.table}.${t.trigger}`]!.length, t.trigger).toBeGreaterThan(20);
  });

  it('the checker finds nothing to fix', () => {
    expect(citusReadinessProblems(catalog)).toEqual([]);
  });
});

describe('the checker catches what Citus would refuse', () => {
  it('a global unique index, a bad foreign key, a rogue trigger, an unclassified table', async () => {
    const bad = await inRolledBack(async (tx) => {
      await tx`create unique index rogue_name_key on tenancy.apps (name)`;
      await tx`alter table tenancy.branches add constraint rogue_swapped_fkey foreign key (app_id, tenant_id) references tenancy.apps (tenant_id, id)`;
      await tx`alter table tenancy.user_apps add constraint rogue_set_null_fkey foreign key (tenant_id, app_id) references tenancy.apps (tenant_id, id) on delete set null (app_id)`;
      await tx`alter table auth.sessions add column t text, add column a text, add constraint rogue_local_fkey foreign key (t, a) references tenancy.apps (tenant_id, id)`;
      await tx`alter table tenancy.tenants add column a text, add constraint rogue_reference_fkey foreign key (id, a) references tenancy.apps (tenant_id, id)`;
      await tx`create trigger rogue before insert on tenancy.branches for each row execute function pgstore.set_updated_at()`;
      await tx`create table public.rogue (id int primary key)`;
      return buildCitusPlan(await readCitusCatalog(tx));
    });
    const messages = bad.problems.map((p) => `${p.rule}: ${p.message}`);
    for (const needle of [
      'unique-without-tenant: unique index rogue_name_key',
      'rogue_swapped_fkey',
      'rogue_set_null_fkey',
      'rogue_local_fkey',
      'rogue_reference_fkey',
      'row-trigger: row trigger rogue ',
    ]) {
      expect(
        messages.some((m) => m.includes(needle)),
        `${needle} in\n${messages.join('\n')}`,
      ).toBe(true);
    }
    expect(bad.problems).toHaveLength(6);
    expect(bad.unclassified).toEqual(['public.rogue']);
  });

  it('without migration 20261205000003, app_keys is what blocks', async () => {
    const file = readFileSync(new URL('../../migrations/20261205000003_citus_ready_keys.sql', import.meta.url), 'utf8');
    const down = file.slice(file.indexOf('-- migrate:down'));
    const problems = await inRolledBack(async (tx) => {
      await tx.unsafe(down);
      return citusReadinessProblems(await readCitusCatalog(tx));
    });
    expect(problems.map((p) => p.message.split(':')[0]).sort()).toEqual([
      'foreign key app_keys_rotated_from_fkey (tenancy.app_keys -> tenancy.app_keys) must pair tenant_id with tenant_id (both tables are distributed)',
      'primary key app_keys_pkey of tenancy.app_keys does not contain tenant_id',
      'unique constraint app_keys_key_id_key of tenancy.app_keys does not contain tenant_id',
      'unique constraint app_keys_rotated_from_key of tenancy.app_keys does not contain tenant_id',
      'unique constraint app_keys_secret_hash_key of tenancy.app_keys does not contain tenant_id',
    ]);
  });
});

describe('the Citus plan (in-process)', () => {
  it('reference tables first, then distributed ones after the tables they point at, all co-located', () => {
    const plan = buildCitusPlan(catalog);
    expect(plan.problems).toEqual([]);
    expect(plan.statements).toEqual([
      'set citus.enable_unsafe_triggers = on;',
      "select create_reference_table('auth.users');",
      "select create_reference_table('tenancy.tenants');",
      "select create_distributed_table('tenancy.apps', 'tenant_id', colocate_with => 'none');",
      "select create_distributed_table('tenancy.branches', 'tenant_id', colocate_with => 'tenancy.apps');",
      "select create_distributed_table('tenancy.memberships', 'tenant_id', colocate_with => 'tenancy.apps');",
      "select create_distributed_table('tenancy.app_keys', 'tenant_id', colocate_with => 'tenancy.apps');",
      "select create_distributed_table('tenancy.user_apps', 'tenant_id', colocate_with => 'tenancy.apps');",
    ]);
    // Each table comes after every table it points at.
    const position = new Map([...plan.reference, ...plan.distributed.map((d) => d.table)].map((t, i) => [t, i]));
    for (const fk of catalog.foreignKeys) {
      if (fk.table !== fk.references && position.has(fk.table))
        expect(position.get(fk.references), fk.constraint).toBeLessThan(position.get(fk.table)!);
    }
    expect(plan.local).toContain('auth.sessions');
    expect(citusPlanScript(plan).join('\n')).toContain('-- Local, on the coordinator: ');
  });

  it('orders by foreign keys, not by name: a reference table pointed at by another comes first', async () => {
    const plan = await inRolledBack(async (tx) => {
      await tx`create table public.a_region (id text primary key, country text)`;
      await tx`create table public.z_country (id text primary key)`;
      await tx`alter table public.a_region add foreign key (country) references public.z_country (id)`;
      return buildCitusPlan(await readCitusCatalog(tx), {
        placement: {
          ...TABLE_PLACEMENT,
          'public.a_region': { kind: 'reference', reason: 'test' },
          'public.z_country': { kind: 'reference', reason: 'test' },
        },
        allowedTriggers: ALLOWED_ROW_TRIGGERS,
      });
    });
    expect(plan.reference).toEqual(['auth.users', 'public.z_country', 'public.a_region', 'tenancy.tenants']);
  });
});
