/**
 * How pgstore's tables would be placed on a Citus cluster: THE one list (the catalog test
 * test/integration/citus-readiness.test.ts and `pgstore setup --print-citus-plan` read it).
 *
 *   distributed  sharded by tenant_id, all in one co-location group: a tenant's rows of every
 *                such table live on one node, so each per-tenant query and transaction is
 *                routed to a single shard.
 *   reference    global tables that distributed tables point at (foreign keys) or join with;
 *                a copy on every node.
 *   local        global tables only the coordinator needs; those with a foreign key to a
 *                reference table become Citus local tables when that table is made a reference
 *                table (citus.enable_local_reference_table_foreign_keys, on by default).
 *
 * Every table of the database must be here: the catalog test fails on a table without a
 * decision. The rules each placement implies, and their sources, are in the README
 * ("Citus readiness").
 */

export const DISTRIBUTION_COLUMN = 'tenant_id';

export type Placement =
  | { kind: 'distributed'; reason: string }
  | { kind: 'reference'; reason: string }
  | { kind: 'local'; reason: string };

const distributed = (reason: string): Placement => ({ kind: 'distributed', reason });
const reference = (reason: string): Placement => ({ kind: 'reference', reason });
const local = (reason: string): Placement => ({ kind: 'local', reason });

const perUser = "one user's data, global (not per tenant): read by user id on the coordinator";

/** schema.table -> placement. */
export const TABLE_PLACEMENT: Readonly<Record<string, Placement>> = {
  // tenancy: the tenants themselves are global, everything under a tenant is sharded by it.
  'tenancy.tenants': reference(
    'the tenant catalogue: every distributed table points at it, and its live names are unique across tenants (tenants_name_key), which a table sharded by id could not enforce',
  ),
  'tenancy.apps': distributed("a tenant's apps; the first table of the co-location group"),
  'tenancy.branches': distributed("a tenant app's branches"),
  'tenancy.memberships': distributed("a tenant's members (usernames unique per tenant)"),
  'tenancy.user_apps': distributed('which member may use which app of the tenant'),
  'tenancy.app_keys': distributed(
    "a tenant app's API keys; verify finds the tenant in the secret (migration 20261205000003)",
  ),

  // auth: identity is global. users is a reference table because memberships (distributed)
  // points at it and getByEmail joins it with memberships.
  'auth.users': reference('people are global (one account, many tenants); memberships points at it and joins it'),
  'auth.user_credentials': local(perUser),
  'auth.user_external_logins': local(`${perUser}; (provider, subject) is unique across all users`),
  'auth.user_profiles': local(perUser),
  'auth.user_preferences': local(perUser),
  'auth.sessions': local(`${perUser}; looked up by token hash, unique across all users`),
  'auth.nonces': local('single-use values, global, no tenant'),
  'auth.roles': local('the role catalogue; only auth.user_roles (local) uses it'),
  'auth.user_roles': local(perUser),

  // hosts: the event-sourced hosts file has no tenant at all.
  'hosts.host_events': local(
    'hosts-file event log: no tenant; its statement trigger keeps the projection in the same transaction',
  ),
  'hosts.streams': local('hosts-file event streams: no tenant'),
  'hosts.hosts': local('hosts-file projection: no tenant'),
  'hosts.snapshots': local('hosts-file snapshots: no tenant'),

  // pgstore's own bookkeeping.
  'pgstore.environment': local('pgstore metadata (one row)'),
  'pgstore.applied_seeds': local('pgstore metadata'),
  'public.pgstore_schema_migrations': local(
    "pgstore's own migration history (dbmate's table), read and written by migrate on the coordinator",
  ),
};

const SET_UPDATED_AT =
  'BEFORE UPDATE FOR EACH ROW, pgstore.set_updated_at(): sets NEW.updated_at on the row being written and touches no other row or table, so it is safe on a shard (Citus still asks for citus.enable_unsafe_triggers)';

/**
 * Row triggers allowed on distributed and reference tables, "schema.table.trigger" -> why it
 * is safe. Citus refuses them unless citus.enable_unsafe_triggers is on; the catalog test
 * fails on any row trigger of such a table that is not listed here.
 */
export const ALLOWED_ROW_TRIGGERS: Readonly<Record<string, string>> = {
  'tenancy.tenants.set_updated_at': SET_UPDATED_AT,
  'tenancy.apps.set_updated_at': SET_UPDATED_AT,
  'tenancy.branches.set_updated_at': SET_UPDATED_AT,
  'tenancy.memberships.set_updated_at': SET_UPDATED_AT,
  'tenancy.app_keys.set_updated_at': SET_UPDATED_AT,
  'auth.users.set_updated_at': SET_UPDATED_AT,
};
