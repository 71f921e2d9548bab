/**
 * Citus readiness: the rules Citus enforces when tables are distributed, checked against the
 * catalog and the distribution list (store/tenancy/distribution.ts), and the plan of
 * create_reference_table / create_distributed_table calls in foreign-key order.
 * `pgstore setup --print-citus-plan` prints it; nothing in the database changes.
 * Sources of the rules: README, "Citus readiness".
 */
import { connectPool } from '../../db/pool.js';
import { PgstoreError } from '../../errors.js';
import { type CitusCatalog, readCitusCatalog } from '../../store/admin/index.js';
import {
  ALLOWED_ROW_TRIGGERS,
  DISTRIBUTION_COLUMN,
  type Placement,
  TABLE_PLACEMENT,
} from '../../store/tenancy/index.js';
import type { CoreOptions } from '../options.js';

export interface ReadinessProblem {
  rule: 'missing-table' | 'distribution-column' | 'unique-without-tenant' | 'foreign-key' | 'row-trigger';
  table: string;
  message: string;
}

export interface CitusPlan {
  database: string;
  distributionColumn: string;
  /** In creation order. */
  reference: string[];
  /** In creation order; the first starts the co-location group, the others join it. */
  distributed: Array<{ table: string; colocateWith: string }>;
  local: string[];
  /** Tables in the database that the distribution list does not mention (the user's own). */
  unclassified: string[];
  /** Row triggers kept on reference and distributed tables, with why each is safe. */
  triggers: Array<{ table: string; trigger: string; reason: string }>;
  statements: string[];
  problems: ReadinessProblem[];
}

export interface ReadinessRules {
  placement: Readonly<Record<string, Placement>>;
  allowedTriggers: Readonly<Record<string, string>>;
}

const DEFAULT_RULES: ReadinessRules = { placement: TABLE_PLACEMENT, allowedTriggers: ALLOWED_ROW_TRIGGERS };

const ACTIONS: Record<string, string> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

/** Every way the catalog breaks a Citus rule for the placement it is given. Unclassified tables are not problems here (see CitusPlan.unclassified). */
export function citusReadinessProblems(
  catalog: CitusCatalog,
  rules: ReadinessRules = DEFAULT_RULES,
): ReadinessProblem[] {
  const problems: ReadinessProblem[] = [];
  const col = DISTRIBUTION_COLUMN;
  const kindOf = (table: string) => rules.placement[table]?.kind;
  const present = new Set(catalog.tables.map((t) => t.name));
  for (const table of Object.keys(rules.placement)) {
    if (!present.has(table))
      problems.push({
        rule: 'missing-table',
        table,
        message: `${table} is in the distribution list but not in the database`,
      });
  }
  for (const table of catalog.tables) {
    if (kindOf(table.name) === 'distributed' && !table.columns.includes(col)) {
      problems.push({
        rule: 'distribution-column',
        table: table.name,
        message: `${table.name} is distributed by ${col} but has no such column`,
      });
    }
  }
  for (const u of catalog.uniqueIndexes) {
    if (kindOf(u.table) === 'distributed' && !u.columns.includes(col)) {
      problems.push({
        rule: 'unique-without-tenant',
        table: u.table,
        message: `${u.kind} ${u.index} of ${u.table} does not contain ${col}: ${u.definition}`,
      });
    }
  }
  for (const fk of catalog.foreignKeys) {
    const from = kindOf(fk.table);
    const to = kindOf(fk.references);
    const name = `foreign key ${fk.constraint} (${fk.table} -> ${fk.references})`;
    const fail = (message: string) =>
      problems.push({ rule: 'foreign-key', table: fk.table, message: `${name} ${message}` });
    if (from === 'distributed') {
      const at = fk.columns.indexOf(col);
      if (to === 'distributed' && (at < 0 || fk.referencedColumns[at] !== col))
        fail(`must pair ${col} with ${col} (both tables are distributed)`);
      if (to === 'local') fail('points from a distributed table to a local one');
      if (at >= 0 && (fk.onDelete === 'n' || fk.onDelete === 'd'))
        fail(`includes ${col} and cannot be ON DELETE ${ACTIONS[fk.onDelete]!.toUpperCase()}`);
      if (at >= 0 && ['n', 'd', 'c'].includes(fk.onUpdate))
        fail(`includes ${col} and cannot be ON UPDATE ${ACTIONS[fk.onUpdate]!.toUpperCase()}`);
    } else if (from === 'reference' && to !== 'reference') {
      fail(
        `points from a reference table to a ${to ?? 'unclassified'} one (a reference table may only point at reference tables)`,
      );
    } else if (to === 'distributed') {
      fail(`points from a ${from ?? 'unclassified'} table to a distributed one`);
    }
  }
  for (const t of catalog.rowTriggers) {
    const kind = kindOf(t.table);
    if ((kind === 'distributed' || kind === 'reference') && !rules.allowedTriggers[`${t.table}.${t.trigger}`]) {
      problems.push({
        rule: 'row-trigger',
        table: t.table,
        message: `row trigger ${t.trigger} on ${kind} table ${t.table} is not in ALLOWED_ROW_TRIGGERS: ${t.definition}`,
      });
    }
  }
  return problems;
}

/** Kahn's order of `tables` so that each comes after the tables it points at (ties by name). Tables in a cycle come last, reported. */
function foreignKeyOrder(tables: string[], catalog: CitusCatalog, problems: ReadinessProblem[]): string[] {
  const inSet = new Set(tables);
  const needs = new Map(tables.map((t) => [t, new Set<string>()]));
  for (const fk of catalog.foreignKeys) {
    if (inSet.has(fk.table) && inSet.has(fk.references) && fk.table !== fk.references)
      needs.get(fk.table)!.add(fk.references);
  }
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < tables.length) {
    const next = tables.filter((t) => !done.has(t) && [...needs.get(t)!].every((n) => done.has(n))).sort()[0];
    if (next === undefined) {
      const rest = tables.filter((t) => !done.has(t)).sort();
      problems.push({
        rule: 'foreign-key',
        table: rest[0]!,
        message: `foreign keys form a cycle among ${rest.join(', ')}`,
      });
      order.push(...rest);
      break;
    }
    order.push(next);
    done.add(next);
  }
  return order;
}

const literal = (name: string) =>
  `'${name
    .split('.')
    .map((p) => (/^[a-z_][a-z0-9_$]*$/.test(p) ? p : `"${p.replace(/"/g, '""')}"`))
    .join('.')
    .replace(/'/g, "''")}'`;

/** The plan for this catalog: which call for which table, in foreign-key order, and what blocks it. */
export function buildCitusPlan(catalog: CitusCatalog, rules: ReadinessRules = DEFAULT_RULES): CitusPlan {
  const problems = citusReadinessProblems(catalog, rules);
  const names = catalog.tables.map((t) => t.name);
  const of = (kind: Placement['kind']) => names.filter((n) => rules.placement[n]?.kind === kind);
  const reference = foreignKeyOrder(of('reference'), catalog, problems);
  const distributedOrder = foreignKeyOrder(of('distributed'), catalog, problems);
  const anchor = distributedOrder[0];
  const distributed = distributedOrder.map((table) => ({ table, colocateWith: table === anchor ? 'none' : anchor! }));
  const sharded = new Set([...reference, ...distributedOrder]);
  const triggers = catalog.rowTriggers
    .filter((t) => sharded.has(t.table) && rules.allowedTriggers[`${t.table}.${t.trigger}`])
    .map((t) => ({ table: t.table, trigger: t.trigger, reason: rules.allowedTriggers[`${t.table}.${t.trigger}`]! }));
  const statements = [
    ...(triggers.length ? ['set citus.enable_unsafe_triggers = on;'] : []),
    ...reference.map((t) => `select create_reference_table(${literal(t)});`),
    ...distributed.map(
      (d) =>
        `select create_distributed_table(${literal(d.table)}, ${literal(DISTRIBUTION_COLUMN)}, colocate_with => ${literal(d.colocateWith)});`,
    ),
  ];
  return {
    database: catalog.database,
    distributionColumn: DISTRIBUTION_COLUMN,
    reference,
    distributed,
    local: of('local'),
    unclassified: names.filter((n) => !rules.placement[n]),
    triggers,
    statements,
    problems,
  };
}

/** The plan's SQL script, with comments saying what stays local and why triggers are allowed. */
export function citusPlanScript(plan: CitusPlan): string[] {
  const lines = [`-- Citus distribution of ${plan.database}, computed from its catalog (nothing was changed).`];
  lines.push('-- Run on the coordinator after citus_add_node(...) for each worker; the coordinator must be in the');
  lines.push('-- metadata (citus_set_coordinator_host) for local tables with foreign keys to reference tables.');
  if (plan.triggers.length) {
    lines.push(
      `-- Row triggers kept (Citus refuses them without citus.enable_unsafe_triggers): ${plan.triggers.map((t) => `${t.table}.${t.trigger}`).join(', ')}`,
    );
  }
  lines.push(...plan.statements);
  if (plan.local.length) lines.push(`-- Local, on the coordinator: ${plan.local.join(', ')}`);
  if (plan.unclassified.length)
    lines.push(`-- Not in pgstore's distribution list (yours to decide, left local): ${plan.unclassified.join(', ')}`);
  return lines;
}

/** Reads the target database's catalog and returns its Citus plan; refuses when a rule is broken. */
export async function citusPlan(options: CoreOptions): Promise<CitusPlan> {
  const { sql } = await connectPool(options.target, { max: 1, log: options.log });
  let plan: CitusPlan;
  try {
    plan = buildCitusPlan(await readCitusCatalog(sql));
  } finally {
    await sql.end({ timeout: 5 });
  }
  if (plan.problems.length) {
    const missing = plan.problems.filter((p) => p.rule === 'missing-table').map((p) => p.table);
    const broken = plan.problems.filter((p) => p.rule !== 'missing-table').map((p) => p.message);
    const shown = missing.slice(0, 3).join(', ') + (missing.length > 3 ? ` and ${missing.length - 3} more` : '');
    const parts = [
      ...(missing.length ? [`${missing.length} of pgstore's tables are missing (${shown})`] : []),
      ...broken,
    ];
    throw new PgstoreError(`${plan.database} is not ready for Citus: ${parts.join('; ')}`, {
      hint: broken.length
        ? 'Fix the schema with a migration (README, "Citus readiness"), then print the plan again.'
        : 'Run pgstore migrate up (or pgstore setup) first.',
    });
  }
  return plan;
}
