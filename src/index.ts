/**
 * pgstore as a library: connection resolution, the embedded server, health, and errors.
 */
export * from './errors.js';
export { resolveConnection, connectionUrl, libpqEnv, type ConnectionTarget, type ServerConnection, type EmbeddedTarget, type PoolSettings } from './db/config.js';
export { redact, redactUrl } from './db/redact.js';
export { runHealth, type HealthOptions } from './core/health.js';
export type { HealthReport, CheckResult, HealthStatus } from './core/health-types.js';
export { startServer, stopServer, serverStatus, serverUrl, type ServerStatus } from './core/server.js';
