/**
 * The typed data layer: one store per aggregate, all built on one postgres.js instance.
 * `createStores(tx)` inside `sql.begin(...)` gives stores that share a transaction.
 */
import { createCredentialsStore } from './auth/credentials.js';
import { createExternalLoginsStore } from './auth/external-logins.js';
import { createNoncesStore } from './auth/nonces.js';
import { createPreferencesStore, createProfilesStore } from './auth/profiles.js';
import type { Queryable } from './queryable.js';
import { createRolesStore } from './auth/roles.js';
import { createSessionsStore } from './auth/sessions.js';
import { createUsersStore } from './auth/users.js';
import { createAppKeysStore } from './tenancy/app-keys.js';
import { createAppsStore } from './tenancy/apps.js';
import { createBranchesStore } from './tenancy/branches.js';
import { createMembershipsStore } from './tenancy/memberships.js';
import { createTenantsStore } from './tenancy/tenants.js';
import { createUserAppsStore } from './tenancy/user-apps.js';
import { hostEvents } from './hosts/events.js';
import { hosts } from './hosts/hosts.js';
import { snapshots } from './hosts/snapshots.js';

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
