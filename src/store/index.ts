/**
 * The typed data layer: one store per aggregate, all built on one postgres.js instance.
 * `createStores(tx)` inside `sql.begin(...)` gives stores that share a transaction.
 */
import { createCredentialsStore } from './auth/index.js';
import { createExternalLoginsStore } from './auth/index.js';
import { createNoncesStore } from './auth/index.js';
import { createPreferencesStore, createProfilesStore } from './auth/index.js';
import type { Queryable } from './queryable.js';
import { createRolesStore } from './auth/index.js';
import { createSessionsStore } from './auth/index.js';
import { createUsersStore } from './auth/index.js';
import { createAppKeysStore } from './tenancy/index.js';
import { createAppsStore } from './tenancy/index.js';
import { createBranchesStore } from './tenancy/index.js';
import { createMembershipsStore } from './tenancy/index.js';
import { createTenantsStore } from './tenancy/index.js';
import { createUserAppsStore } from './tenancy/index.js';
import { createHostEventsStore } from './hosts/index.js';
import { createHostsStore } from './hosts/index.js';
import { createSnapshotsStore } from './hosts/index.js';

/** Builds every store on `sql` (a pool or a transaction). */
export function createStores(sql: Queryable) {
  return {
    users: createUsersStore(sql),
    credentials: createCredentialsStore(sql),
    sessions: createSessionsStore(sql),
    externalLogins: createExternalLoginsStore(sql),
    nonces: createNoncesStore(sql),
    profiles: createProfilesStore(sql),
    preferences: createPreferencesStore(sql),
    roles: createRolesStore(sql),
    tenants: createTenantsStore(sql),
    apps: createAppsStore(sql),
    branches: createBranchesStore(sql),
    memberships: createMembershipsStore(sql),
    userApps: createUserAppsStore(sql),
    appKeys: createAppKeysStore(sql),
    hostEvents: createHostEventsStore(sql),
    hosts: createHostsStore(sql),
    snapshots: createSnapshotsStore(sql),
    // Each store is added here as it lands: auth, tenancy and hosts.
  };
}

export type Stores = ReturnType<typeof createStores>;
export type { Queryable } from './queryable.js';
