/** Administration: databases, roles, migration history, statistics, bulk loads: the folder's public face. */
export * from './admin.js';
export * from './bulk-load.js';
export * from './environment.js';
export * from './invalid-indexes.js';
export * from './migration-log.js';
export * from './migration-run.js';
export * from './restore.js';
export * from './scratch-db.js';
export * from './seeds.js';
export * from './server-stats.js';
export * from './table-stats.js';
export * from './wal-archive.js';
export * from './replication-stats.js';
export * from './citus-catalog.js';
export * from './new-hosts-load.js';
