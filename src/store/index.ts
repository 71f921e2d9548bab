/**
 * The typed data layer: one store per aggregate, all built on one postgres.js instance.
 * `createStores(tx)` inside `sql.begin(...)` gives stores that share a transaction.
 */
import { createCredentialsStore } from './credentials.js';
import { createExternalLoginsStore } from './external-logins.js';
import { createNoncesStore } from './nonces.js';
import { createPreferencesStore, createProfilesStore } from './profiles.js';
import type { Queryable } from './queryable.js';
import { createRolesStore } from './roles.js';
import { createSessionsStore } from './sessions.js';
import { createUsersStore } from './users.js';
import { createAppKeysStore } from './app-keys.js';
import { createAppsStore } from './apps.js';
import { createBranchesStore } from './branches.js';
import { createMembershipsStore } from './memberships.js';
import { createTenantsStore } from './tenants.js';
import { createUserAppsStore } from './user-apps.js';
import { hostEvents } from './host-events.js';
import { hosts } from './hosts.js';
import { snapshots } from './snapshots.js';

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
    hostEvents: hostEvents(sql),
    hosts: hosts(sql),
    snapshots: snapshots(sql),
    // Each store is added here as it lands: auth, tenancy and hosts.
  };
}

export type Stores = ReturnType<typeof createStores>;
export type { Queryable } from './queryable.js';
