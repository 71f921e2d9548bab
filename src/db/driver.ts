/**
 * postgres.js pools built from a resolved server connection, and the explanation of a failure
 * to connect. The driver is loaded lazily: commands that never touch the database do not pay
 * for it. (pool.ts adds the embedded server and the connect deadline on top.)
 */
import type { SecureContext } from 'node:tls';
import type { Options, PostgresType, Sql } from 'postgres';
import { ConnectionError, ExitCode } from '../errors.js';
import { startupParams } from '../tools/libpq-env.js';
import { redact } from '../util/redact.js';
import { installBuiltinArrayTypes } from './array-types.js';
import type { ServerConnection } from './config.js';
import { extraCaSecureContext } from './extra-ca.js';
import { urlSetsLockTimeout } from './lock-timeout.js';
import { reserveSettles } from './reserve-settles.js';
import { CLOSED_IN_STARTUP, guardedSocketFactory, NOT_POSTGRES } from './startup-guard.js';

export type Db = Sql<Record<string, PostgresType>>;

export interface PoolOptions {
  /** Overrides the pool's connect timeout, in seconds (health's --timeout). */
  connectTimeoutSeconds?: number;
  /** Overrides the pool size. */
  max?: number;
  /** Connect to another database on the same server (e.g. `postgres` for admin work). */
  database?: string;
  /** application_name reported to the server. */
  applicationName?: string;
  /**
   * Also let the driver look up the array types at each connect (postgres.js `fetch_types`), for
   * arrays of user-defined types. Default false: pgstore's built-in array types come from a
   * static table (array-types.ts), which saves ~4.5 ms CPU per connection.
   */
  fetchTypes?: boolean;
  /**
   * Keep idle connections open for good (false): a pool holding a session lock (migrations,
   * restores) must not lose the connection, and the lock with it, while it waits.
   */
  closeIdle?: boolean;
  /** Called with the driver's connection id each time a connection closes (postgres.js `onclose`). */
  onclose?: (connectionId: number) => void;
}

/** The driver options for a connection: pool settings applied, SSL mode mapped. */
export function driverOptions(
  conn: ServerConnection,
  options: PoolOptions = {},
  secureContext?: SecureContext,
): Options<Record<string, PostgresType>> {
  const isSocket = conn.host.startsWith('/');
  // `socket` is the driver's documented hook (absent from its typings): startup-guard.ts says why.
  const socket = { socket: guardedSocketFactory() } as Options<Record<string, PostgresType>>;
  // An address as a one-element list: the driver splits a host string at ':' (for its
  // "host:port,host:port" form), which made `::1` the host '' (so, localhost) and sent pgstore
  // to another server than the URL's (upstream: https://github.com/porsager/postgres/pull/663).
  // Lists are taken as they are (postgres.js 3.4.9, src/index.js parseOptions); not in its typings.
  const address = { host: [conn.host], port: [conn.port] } as unknown as { host: string; port: number };
  return {
    ...socket,
    ...(isSocket ? { path: `${conn.host}/.s.PGSQL.${conn.port}`, port: conn.port } : address),
    user: conn.user,
    pass: conn.password,
    database: options.database ?? conn.database,
    ssl: sslOption(conn.sslmode, conn.host, secureContext),
    max: options.max ?? conn.pool.max,
    idle_timeout: options.closeIdle === false ? 0 : conn.pool.idleTimeoutSeconds,
    // A session that holds a lock (closeIdle false) is never recycled either: postgres.js ends
    // a connection 30-60 min after it opened by default (max_lifetime), and the next query would
    // then run on a new backend, without the lock and the session's role.
    ...(options.closeIdle === false ? { max_lifetime: 0 } : {}),
    connect_timeout: options.connectTimeoutSeconds ?? conn.pool.acquireTimeoutSeconds,
    onnotice: () => undefined,
    // Built-in array types are installed by openPool (array-types.ts); the lookup costs one
    // query per connection (3-4.5 ms of CPU, client + server; measured in array-types.ts).
    fetch_types: options.fetchTypes ?? false,
    ...(options.onclose ? { onclose: options.onclose } : {}),
    connection: {
      application_name: options.applicationName ?? conn.params.application_name ?? 'pgstore',
      ...Object.fromEntries(Object.entries(sessionParams(conn)).filter(([key]) => key !== 'application_name')),
    },
  };
}

/**
 * The startup parameters of a driver session: the URL's (startupParams), and the CLI's
 * lock_timeout (conn.lockTimeoutMs) after the URL's own options unless those set one. Only
 * the driver's sessions: pg_dump gets --lock-wait-timeout instead (tools/pg-dump.ts), and
 * pg_dump, pg_restore and a dump's script set lock_timeout = 0 themselves.
 */
function sessionParams(conn: ServerConnection): Record<string, string> {
  const params = startupParams(conn);
  if (conn.lockTimeoutMs === undefined || urlSetsLockTimeout(conn.params.options)) return params;
  const options = [params.options, `-c lock_timeout=${conn.lockTimeoutMs}`].filter(Boolean).join(' ');
  return { ...params, options };
}

/**
 * The driver's ssl option. `secureContext`: the certificate store of a connection that verifies
 * the server, when it is not Node's default (extra-ca.ts); the driver (postgres.js 3.4.9,
 * src/connection.js `secure()`) passes an object's fields to tls.connect after the servername
 * it sets, so verify-full keeps Node's default rejectUnauthorized and checkServerIdentity, and
 * names the host the certificate must hold.
 */
function sslOption(
  mode: ServerConnection['sslmode'],
  host: string,
  secureContext?: SecureContext,
): Options<Record<string, PostgresType>>['ssl'] {
  const isSocket = host.startsWith('/');
  const store = secureContext ? { secureContext } : {};
  switch (mode) {
    case 'disable':
      return false;
    case undefined: // libpq's default
      return 'prefer';
    case 'allow':
    case 'prefer':
    case 'require':
      return mode;
    case 'verify-full':
      // `host`: the name the certificate must hold. postgres.js gives tls.connect no servername
      // for an IP address (SNI takes names only) and its own socket, so Node checked the
      // certificate against 'localhost' instead of the address (_tls_wrap.js: servername, then
      // host, then 'localhost'): a certificate for localhost passed verify-full to any IP.
      return isSocket ? (secureContext ? store : mode) : { host, ...store };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined, ...store };
  }
}

/** Whether a connection with this sslmode verifies the server's certificate. */
function verifiesServer(mode: ServerConnection['sslmode']): boolean {
  return mode === 'verify-full' || mode === 'verify-ca';
}

/**
 * Opens a pool on a server connection, with the built-in array types installed (no lookup at
 * connect). Connections are made on first use.
 */
export async function openPool(conn: ServerConnection, options: PoolOptions = {}): Promise<Db> {
  const { default: postgres } = await import('postgres');
  // The deferred NODE_EXTRA_CA_CERTS, loaded only for a connection that verifies the server.
  const secureContext = verifiesServer(conn.sslmode) ? await extraCaSecureContext() : undefined;
  const sql = postgres(driverOptions(conn, options, secureContext));
  installBuiltinArrayTypes(sql);
  if (!options.fetchTypes) reserveSettles(sql);
  return sql;
}

/** Runs `fn` with a one-connection pool on the server's `postgres` database, then closes it. */
export async function withAdminSql<T>(
  conn: ServerConnection,
  fn: (sql: Db) => Promise<T>,
  database = 'postgres',
  pool: PoolOptions = {},
): Promise<T> {
  const sql = await openPool(conn, { database, max: 1, ...pool });
  try {
    return await fn(sql);
  } catch (error) {
    throw isConnectFailure(error) ? connectionError(error, conn, database) : error;
  } finally {
    await sql.end({ timeout: 5 }).catch(() => undefined);
  }
}

interface DriverError {
  code?: string;
  message?: string;
  errno?: string;
}

/** True when an error is a failure to reach or log in to the server (not a query error). */
export function isConnectFailure(error: unknown): boolean {
  const code = (error as DriverError)?.code ?? '';
  return (
    [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EAI_AGAIN',
      'ETIMEDOUT',
      'ECONNRESET',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'CONNECT_TIMEOUT',
      'ENOENT',
      'CONNECTION_CLOSED',
      'CONNECTION_ENDED',
      'CONNECTION_DESTROYED',
      'SASL_SIGNATURE_MISMATCH',
      'AUTH_TYPE_NOT_IMPLEMENTED',
      NOT_POSTGRES,
      CLOSED_IN_STARTUP,
    ].includes(code) ||
    /^(28|3D|08|57P0)/.test(code) ||
    isCertificateRefused(code)
  );
}

/** Node's codes for a server certificate that sslmode verify-full or verify-ca refused. */
export function isCertificateRefused(code: string): boolean {
  return (
    code === 'ERR_TLS_CERT_ALTNAME_INVALID' ||
    /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|CERT_|ERR_TLS_CERT)/.test(code)
  );
}

/** A one-line, password-free explanation of a connection failure, with what to do. */
export function connectionError(error: unknown, conn: ServerConnection, database = conn.database): ConnectionError {
  if (error instanceof ConnectionError) return error; // the startup guard's, already explained
  const code = (error as DriverError)?.code ?? '';
  const where = `${conn.host}:${conn.port}`;
  const detail = redact((error as DriverError)?.message ?? String(error));
  const make = (message: string, hint: string, exitCode?: number) =>
    new ConnectionError(redact(message), { hint, cause: error, ...(exitCode ? { exitCode } : {}) });
  switch (true) {
    case code === 'ECONNREFUSED' || code === 'ENOENT':
      return make(
        `cannot connect to ${where}: connection refused`,
        'Is the server running, and are the host and port right?',
      );
    case code === 'ENOTFOUND' || code === 'EAI_AGAIN':
      return make(
        `cannot connect to ${where}: host '${conn.host}' not found`,
        'Check the host name in the connection URL.',
      );
    case code === 'ECONNRESET' || code === 'EPIPE':
      return make(
        `cannot connect to ${where}: the server reset the connection`,
        "Is it a PostgreSQL server? Check the host and port, and the server's log.",
      );
    case code === 'CONNECT_TIMEOUT' || code === 'ETIMEDOUT':
      return make(
        `cannot connect to ${where}: timed out`,
        'Check the host, port and firewall; raise acquire_timeout if the server is slow.',
      );
    case code === '28P01' || code === 'SASL_SIGNATURE_MISMATCH':
      return make(
        `password authentication failed for user '${conn.user}' at ${where}`,
        'Check the password (URL, PGPASSWORD or ~/.pgpass).',
      );
    case code === '28000':
      return make(
        `the server at ${where} refused user '${conn.user}': ${detail}`,
        "Check the user name and the server's pg_hba.conf.",
      );
    case code === '3D000':
      return make(
        `database '${database}' does not exist on ${where}`,
        'Create it with `pgstore setup`, or fix the database name.',
        // A name that does not exist (README, exit codes), as `restore --target-db` says too.
        ExitCode.usage,
      );
    case code === 'ERR_TLS_CERT_ALTNAME_INVALID':
      return make(
        `cannot connect to ${where}: the server's certificate is not for '${conn.host}' (sslmode=verify-full)`,
        'Connect by a name the certificate holds, or use sslmode=verify-ca (the CA is checked, not the name).',
      );
    case isCertificateRefused(code):
      return make(
        `cannot connect to ${where}: the server's certificate is not trusted (${detail})`,
        "Name the file of the server's CA in NODE_EXTRA_CA_CERTS (verify-full and verify-ca trust Node's CAs and that file), or use sslmode=require (encrypted, not verified).",
      );
    case code.startsWith('57P0'):
      return make(`the server at ${where} is shutting down or starting: ${detail}`, 'Try again in a moment.');
    default:
      return make(`cannot connect to ${where}: ${detail}`, 'Check the connection settings (see `pgstore --help`).');
  }
}

/** Whether the session on `sql` is encrypted (to give child programs the same sslmode). */
export async function sessionUsesSsl(sql: Db): Promise<boolean> {
  const [row] = await sql<{ ssl: boolean | null }[]>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`;
  return !!row?.ssl;
}
