/**
 * Which store methods may run on a replica, and the two views built from that list:
 * `replicaStores(read)` (only those methods, each routed through `read`) and
 * `trackWrites(stores, noteWrite)` (every other method reports when it finished).
 *
 * A method is listed only when it never writes: API-key verify (records lastUsedAt), password
 * verification (rehashes), nonce consume, session extend and every create/update/delete stay on
 * the primary. The list is checked against the stores' types (a renamed method fails to compile).
 */
import type { Stores } from './index.js';
import type { Queryable } from './queryable.js';
import {
  createCredentialsStore,
  createExternalLoginsStore,
  createNoncesStore,
  createPreferencesStore,
  createProfilesStore,
  createRolesStore,
  createSessionsStore,
  createUsersStore,
} from './auth/index.js';
import {
  createAppKeysStore,
  createAppsStore,
  createBranchesStore,
  createMembershipsStore,
  createTenantsStore,
  createUserAppsStore,
} from './tenancy/index.js';
import { createHostEventsStore, createHostsStore, createSnapshotsStore } from './hosts/index.js';

/** One store at a time (a gated read builds only the store it calls, on its reserved connection). */
const FACTORIES = {
  users: createUsersStore,
  credentials: (sql: Queryable) => createCredentialsStore(sql),
  sessions: createSessionsStore,
  externalLogins: createExternalLoginsStore,
  nonces: createNoncesStore,
  profiles: createProfilesStore,
  preferences: createPreferencesStore,
  roles: createRolesStore,
  tenants: createTenantsStore,
  apps: createAppsStore,
  branches: createBranchesStore,
  memberships: createMembershipsStore,
  userApps: createUserAppsStore,
  appKeys: createAppKeysStore,
  hostEvents: createHostEventsStore,
  hosts: createHostsStore,
  snapshots: createSnapshotsStore,
} satisfies { [K in keyof Stores]: (sql: Queryable) => Stores[K] };

export const REPLICA_READS = {
  users: ['get', 'getByEmail', 'list'],
  credentials: ['hasPassword', 'get'],
  sessions: ['get', 'getById', 'listForUser'],
  externalLogins: ['get', 'getUserByProviderAndSubject', 'listForUser'],
  nonces: [],
  profiles: ['get'],
  preferences: ['get'],
  roles: ['list', 'get', 'hasRole', 'listForUser', 'usersWithRole'],
  tenants: ['get', 'getByName', 'list', 'exists'],
  apps: ['get', 'getByName', 'listByType', 'exists'],
  branches: ['get', 'getByCode', 'listByType', 'exists'],
  memberships: ['get', 'getByUsername', 'getByEmail', 'list', 'listByApp'],
  userApps: ['hasAccess', 'listUserApps', 'listAppUsers'],
  appKeys: ['getByKeyId', 'list'],
  hostEvents: ['loadEvents', 'getCurrentVersion', 'getCurrentVersions', 'countEvents', 'lastPosition'],
  hosts: [
    'listAll',
    'getById',
    'findByIpAndHostname',
    'findByPairs',
    'getAtTime',
    'search',
    'searchWithTotal',
    'count',
  ],
  snapshots: ['idsByName', 'getSnapshot', 'listSnapshots'],
} as const satisfies { [K in keyof Stores]: ReadonlyArray<keyof Stores[K]> };

type Reads = typeof REPLICA_READS;

/** The stores' replica-safe read methods only: a write cannot be sent to a replica by mistake. */
export type ReplicaStores = { [K in keyof Reads]: Pick<Stores[K], Extract<Reads[K][number], keyof Stores[K]>> };

/** Runs a store call on whichever connection the router picks. */
export type RouteRead = <T>(call: (sql: Queryable) => Promise<T>) => Promise<T>;

/** The read-only view whose every method goes through `route`. */
export function replicaStores(route: RouteRead): ReplicaStores {
  // A store is built once per pool, and per reserved connection (for one call) when gated.
  const built = new WeakMap<object, Partial<Stores>>();
  const storeOn = (sql: Queryable, store: keyof Stores): Record<string, (...a: unknown[]) => Promise<unknown>> => {
    let stores = built.get(sql);
    if (!stores) built.set(sql, (stores = {}));
    return ((stores as Record<string, unknown>)[store] ??= FACTORIES[store](sql)) as Record<
      string,
      (...a: unknown[]) => Promise<unknown>
    >;
  };
  const view: Record<string, Record<string, unknown>> = {};
  for (const [store, methods] of Object.entries(REPLICA_READS) as Array<[keyof Stores, readonly string[]]>) {
    view[store] = Object.fromEntries(
      methods.map((method) => [method, (...args: unknown[]) => route((sql) => storeOn(sql, store)[method]!(...args))]),
    );
  }
  return view as ReplicaStores;
}

/** `stores` with every method that is not a listed read calling `noteWrite` when it settles. */
export function trackWrites(stores: Stores, noteWrite: () => void): Stores {
  const tracked: Record<string, Record<string, unknown>> = {};
  for (const [store, methods] of Object.entries(stores) as Array<[keyof Stores, Record<string, unknown>]>) {
    const reads = new Set<string>(REPLICA_READS[store]);
    tracked[store] = Object.fromEntries(
      Object.entries(methods).map(([name, fn]) => {
        if (typeof fn !== 'function' || reads.has(name)) return [name, fn];
        const method = fn as (...a: unknown[]) => Promise<unknown>;
        // `this` kept: some methods call their siblings through it (appendEvent → appendEvents).
        return [
          name,
          function (this: unknown, ...args: unknown[]) {
            return method.apply(this, args).finally(noteWrite);
          },
        ];
      }),
    );
  }
  return tracked as Stores;
}
