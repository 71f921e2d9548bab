/**
 * The one connection resolver. Precedence (README, "Configuration"):
 *   --database-url  >  DATABASE_URL  >  libpq variables (PG*, ~/.pgpass)  >  the embedded server.
 * Pool settings come from URL query parameters, else DB_* variables, else defaults.
 * Every problem is reported at once, in one ConfigError (exit 2), with passwords redacted.
 */
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { lookupPgpass, pgpassPath } from './pgpass.js';
import { redact, registerSecret } from './redact.js';

export type Env = Record<string, string | undefined>;

export interface PoolSettings {
  /** Most connections the pool opens. */
  max: number;
  /** Connections opened up front. */
  min: number;
  /** Seconds to wait for a connection before failing. */
  acquireTimeoutSeconds: number;
  /** Seconds an unused connection stays open. */
  idleTimeoutSeconds: number;
}

export const DEFAULT_POOL: PoolSettings = { max: 10, min: 1, acquireTimeoutSeconds: 30, idleTimeoutSeconds: 600 };
export const DEFAULT_EMBEDDED_PORT = 54329;
export const EMBEDDED_DATABASE = 'pgstore';
export const EMBEDDED_USER = 'pgstore';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export type ConnectionSource = '--database-url' | 'DATABASE_URL' | 'libpq' | 'embedded';

/** A server reached by address: everything a driver or a libpq program needs. */
export interface ServerConnection {
  kind: 'server';
  source: ConnectionSource;
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
  sslmode: SslMode | undefined;
  /** Other libpq query parameters from the URL (application_name, options, ...). */
  params: Record<string, string>;
  pool: PoolSettings;
}

/** No server configured: pgstore's own embedded cluster, started on demand. */
export interface EmbeddedTarget {
  kind: 'embedded';
  source: 'embedded';
  home: string;
  port: number;
  database: string;
  pool: PoolSettings;
}

export type ConnectionTarget = ServerConnection | EmbeddedTarget;

export interface ResolveOptions {
  /** The value of --database-url, if given. */
  databaseUrl?: string | undefined;
  env?: Env;
  /** The home directory used for ~/.pgpass and the default PGSTORE_HOME. */
  homeDir?: string;
  /** Whether the process runs as root (changes the default PGSTORE_HOME). */
  isRoot?: boolean;
}

const POOL_PARAMS = {
  max_connections: 'max',
  min_connections: 'min',
  acquire_timeout: 'acquireTimeoutSeconds',
  idle_timeout: 'idleTimeoutSeconds',
} as const satisfies Record<string, keyof PoolSettings>;

const POOL_ENV = {
  DB_MAX_CONNECTIONS: 'max',
  DB_MIN_CONNECTIONS: 'min',
  DB_ACQUIRE_TIMEOUT: 'acquireTimeoutSeconds',
  DB_IDLE_TIMEOUT: 'idleTimeoutSeconds',
} as const satisfies Record<string, keyof PoolSettings>;

const WHOLE = new Set<keyof PoolSettings>(['max', 'min']);

/** Resolves where pgstore connects, or throws a ConfigError naming every bad part. */
export function resolveConnection(options: ResolveOptions = {}): ConnectionTarget {
  const env = options.env ?? process.env;
  const home = options.homeDir ?? homedir();
  const problems: string[] = [];

  const flagUrl = options.databaseUrl?.trim();
  const envUrl = env.DATABASE_URL?.trim();
  const url = flagUrl ? { text: flagUrl, from: '--database-url' as const } : envUrl ? { text: envUrl, from: 'DATABASE_URL' as const } : undefined;

  const query: Record<string, string> = {};
  let target: Omit<ServerConnection, 'pool'> | Omit<EmbeddedTarget, 'pool'>;

  if (url) {
    const parsed = parseUrl(url.text, url.from, problems);
    if (parsed) {
      for (const [key, value] of parsed.searchParams) query[key] = value;
    }
    target = fromParts(url.from, parsed, query, env, home, problems);
  } else if (hasLibpqVariables(env)) {
    target = fromParts('libpq', undefined, query, env, home, problems);
  } else {
    target = {
      kind: 'embedded',
      source: 'embedded',
      home: embeddedHome(env, home, options.isRoot ?? process.getuid?.() === 0),
      port: parsePort(env.PGSTORE_PORT, 'PGSTORE_PORT', problems) ?? DEFAULT_EMBEDDED_PORT,
      database: EMBEDDED_DATABASE,
    };
  }

  const pool = resolvePool(query, env, url?.from ?? 'environment', problems);
  if (problems.length > 0) {
    throw new ConfigError(problems.map(redact), {
      hint: 'Fix the connection settings: see `pgstore --help` and the README section "Configuration".',
    });
  }
  return { ...target, pool } as ConnectionTarget;
}

/** True when any libpq variable names a server, so pgstore should use it. */
export function hasLibpqVariables(env: Env): boolean {
  return ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGSERVICE'].some((key) => !!env[key]);
}

/** Where the embedded server keeps its files: PGSTORE_HOME, else a per-user default. */
export function embeddedHome(env: Env, home: string, isRoot: boolean): string {
  if (env.PGSTORE_HOME) return env.PGSTORE_HOME;
  if (isRoot) return '/var/lib/pgstore';
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'pgstore');
}

function parseUrl(text: string, from: string, problems: string[]): URL | undefined {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    const portMatch = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(text);
    if (portMatch && Number(portMatch[1]) > 65535) {
      problems.push(`${from}: port ${portMatch[1]} is out of range (1-65535)`);
    } else {
      problems.push(`${from} is not a URL: '${text}' (expected postgres://user:password@host:port/database)`);
    }
    return undefined;
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    problems.push(`${from}: unsupported scheme '${parsed.protocol.replace(/:$/, '')}' (use postgres:// or postgresql://)`);
    return undefined;
  }
  return parsed;
}

function fromParts(
  source: Exclude<ConnectionSource, 'embedded'>,
  url: URL | undefined,
  query: Record<string, string>,
  env: Env,
  home: string,
  problems: string[],
): Omit<ServerConnection, 'pool'> {
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      problems.push(`${source}: malformed percent-encoding in '${value}'`);
      return value;
    }
  };
  const urlHost = url?.hostname ? decode(url.hostname.replace(/^\[(.*)\]$/, '$1')) : undefined;
  const host = query.host || urlHost || env.PGHOST || env.PGHOSTADDR || 'localhost';
  const port = parsePort(query.port || url?.port || undefined, source, problems) ?? parsePort(env.PGPORT, 'PGPORT', problems) ?? 5432;
  const user = (url?.username ? decode(url.username) : undefined) || query.user || env.PGUSER || safeUserName();
  const pathDb = url?.pathname && url.pathname !== '/' ? decode(url.pathname.slice(1)) : undefined;
  const database = pathDb || query.dbname || env.PGDATABASE || user;
  let password = (url?.password ? decode(url.password) : undefined) || query.password || env.PGPASSWORD;
  if (password === undefined) {
    password = lookupPgpass(pgpassPath(env, home), { host, port, database, user });
  }
  registerSecret(password);

  const sslText = query.sslmode || env.PGSSLMODE;
  let sslmode: SslMode | undefined;
  if (sslText !== undefined) {
    if ((SSL_MODES as readonly string[]).includes(sslText)) sslmode = sslText as SslMode;
    else problems.push(`sslmode '${sslText}' is not one of ${SSL_MODES.join(', ')}`);
  }

  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (key in POOL_PARAMS || ['host', 'port', 'user', 'password', 'dbname', 'sslmode'].includes(key)) continue;
    params[key] = value;
  }
  return { kind: 'server', source, host, port, user, password, database, sslmode, params };
}

function parsePort(value: string | undefined, from: string, problems: string[]): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    problems.push(`${from}: port ${value} is out of range (1-65535)`);
    return undefined;
  }
  return port;
}

function resolvePool(query: Record<string, string>, env: Env, urlFrom: string, problems: string[]): PoolSettings {
  const pool: PoolSettings = { ...DEFAULT_POOL };
  const apply = (key: keyof PoolSettings, raw: string, name: string) => {
    const value = Number(raw);
    const whole = WHOLE.has(key);
    const valid = raw.trim() !== '' && Number.isFinite(value) && (whole ? Number.isInteger(value) : true);
    const min = key === 'min' ? 0 : whole ? 1 : 0;
    if (!valid || value < min || (!whole && value <= 0)) {
      const kind = whole ? `a whole number ≥ ${min}` : 'a number of seconds > 0';
      problems.push(`${name} must be ${kind}, got '${raw}'`);
      return;
    }
    pool[key] = value;
  };
  for (const [name, key] of Object.entries(POOL_ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') apply(key, raw, name);
  }
  for (const [name, key] of Object.entries(POOL_PARAMS)) {
    const raw = query[name];
    if (raw !== undefined) apply(key, raw, `${name} (in ${urlFrom})`);
  }
  if (pool.min > pool.max) problems.push(`min_connections (${pool.min}) is larger than max_connections (${pool.max})`);
  return pool;
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

/** A postgres:// URL for a server connection, without pool parameters; the password only if asked. */
export function connectionUrl(conn: ServerConnection, withPassword = true): string {
  const auth = encodeURIComponent(conn.user) + (withPassword && conn.password ? `:${encodeURIComponent(conn.password)}` : '');
  const isSocket = conn.host.startsWith('/');
  const host = isSocket ? '' : conn.host.includes(':') ? `[${conn.host}]` : conn.host;
  const search = new URLSearchParams(conn.params);
  if (isSocket) search.set('host', conn.host);
  if (conn.sslmode) search.set('sslmode', conn.sslmode);
  const qs = search.toString();
  return `postgresql://${auth}@${host}:${conn.port}/${encodeURIComponent(conn.database)}${qs ? `?${qs}` : ''}`;
}

/** libpq environment for a child program (psql, pg_dump, dbmate): the password never goes in argv. */
export function libpqEnv(conn: ServerConnection): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: conn.host,
    PGPORT: String(conn.port),
    PGUSER: conn.user,
    PGDATABASE: conn.database,
  };
  if (conn.password) env.PGPASSWORD = conn.password;
  if (conn.sslmode) env.PGSSLMODE = conn.sslmode;
  if (conn.params.application_name) env.PGAPPNAME = conn.params.application_name;
  if (conn.params.options) env.PGOPTIONS = conn.params.options;
  return env;
}

/** A short description of the target for messages: user@host:port/db, never the password. */
export function describeTarget(conn: ServerConnection): string {
  return `${conn.user}@${conn.host}:${conn.port}/${conn.database}`;
}

/** The embedded server's target, whatever else is configured (for `pgstore server`). */
export function resolveEmbedded(options: Omit<ResolveOptions, 'databaseUrl'> = {}): EmbeddedTarget {
  const env = options.env ?? process.env;
  const keep = Object.fromEntries(Object.entries(env).filter(([key]) => !/^PG[A-Z]+$/.test(key) && key !== 'DATABASE_URL'));
  return resolveConnection({ ...options, env: keep, databaseUrl: undefined }) as EmbeddedTarget;
}
