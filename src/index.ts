/**
 * pgstore as a library: connect and the typed stores, connection resolution, the embedded
 * server, migrations, health, and the error classes.
 */
export * from './errors.js';
export { connect, type ConnectOptions, type Database } from './connect.js';
export { createStores, type Stores, type Queryable } from './store/index.js';
export { resolveConnection, connectionUrl, libpqEnv, type ConnectionTarget, type ServerConnection, type EmbeddedTarget, type PoolSettings } from './db/config.js';
export { redact, redactUrl } from './db/redact.js';
export { runHealth, type HealthOptions } from './core/health.js';
export type { HealthReport, CheckResult, HealthStatus } from './core/health-types.js';
export { startServer, stopServer, serverStatus, serverUrl, type ServerStatus } from './core/server.js';
export { migrateUp, migrateDown, type MigrateOptions, type MigrateResult } from './core/migrate.js';
export { migrationStatus, verifyMigrations, type MigrationStatus } from './core/migrate-status.js';
export { setup, type SetupOptions, type SetupResult } from './core/setup.js';
