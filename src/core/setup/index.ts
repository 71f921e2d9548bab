/** pgstore setup and reset: database, roles, migrations: the folder's public face. */
export * from './reset.js';
export * from './setup.js';
export * from './citus-plan.js';
