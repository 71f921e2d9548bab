/** Tenancy: tenants, apps, API keys, memberships, branches: the folder's public face. */
export * from './app-keys.js';
export * from './apps.js';
export * from './branches.js';
export * from './memberships.js';
export * from './tenants.js';
export * from './types.js';
export * from './user-apps.js';
export * from './distribution.js';
