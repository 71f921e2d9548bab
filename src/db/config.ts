/**
 * The one connection resolver. Precedence (README, "Configuration"):
 *   --database-url  >  DATABASE_URL  >  libpq variables (PG*, ~/.pgpass)  >  the embedded server.
 * Pool settings come from URL query parameters, else DB_* variables, else defaults.
 * Every problem is reported at once, in one ConfigError (exit 2), with passwords redacted.
 */
import { homedir, userInfo } from 'node:os';
import { ConfigError } from '../errors.js';
import { embeddedHome } from './home.js';
import { lookupPgpass, pgpassPath } from './pgpass.js';
import { NO_HOST, parsePort, parseQuery, parseUrl } from './url-parse.js';
import { startupOptions, startupParams } from '../tools/libpq-env.js';
import { redact, registerSecret } from '../util/redact.js';

export { startupOptions, startupParams };

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
/** Named postgres like a stock cluster (dumps such as Pagila assign ownership to it), and never
 * pgstore: "$user" in the search_path would then resolve to pgstore's metadata schema. */
export const EMBEDDED_USER = 'postgres';

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
  /**
   * A role every session switches to at login (migrations and grants run as the database's
   * owner). A field of its own, rendered as `-c role=...` only where a session starts
   * (tools/libpq-env.ts startupOptions): driver, URL and libpq environment alike.
   */
  role?: string | undefined;
  /**
   * lock_timeout of the sessions, in ms (0: wait forever), sent at login unless the URL's
   * `options` set one. Set by the CLI only (PGSTORE_LOCK_TIMEOUT, db/lock-timeout.ts); the
   * library leaves it unset: an application chooses its own.
   */
  lockTimeoutMs?: number | undefined;
}

/** No server configured: pgstore's own embedded cluster, started on demand. */
export interface EmbeddedTarget {
  kind: 'embedded';
  source: 'embedded';
  home: string;
  port: number;
  database: string;
  pool: PoolSettings;
  /** PGSTORE_SERVER_USER: the account the server runs as when pgstore runs as root. */
  serverUser?: string | undefined;
  /** Another PostgreSQL build to run (its folder of bin/, lib/, share/); the test suite's version matrix sets it. */
  binaries?: string | undefined;
  /** Carried to the server connection (ServerConnection.lockTimeoutMs). */
  lockTimeoutMs?: number | undefined;
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

/** The query part of a URL text that did not parse: after the last '@' (a password may hold '?'), before '#'. */
function rawSearch(text: string): string {
  const tail = text.slice(text.lastIndexOf('@') + 1);
  const start = tail.indexOf('?');
  return start === -1 ? '' : tail.slice(start).replace(/#.*$/s, '');
}

/** Resolves where pgstore connects, or throws a ConfigError naming every bad part. */
export function resolveConnection(options: ResolveOptions = {}): ConnectionTarget {
  const env = options.env ?? process.env;
  const home = options.homeDir ?? homedir();
  const problems: string[] = [];

  // An explicitly empty URL is a mistake (a script's unset variable: `-d "$URL"`, or systemd's
  // `Environment=DATABASE_URL=${URL}`), never a request for the next source: falling through
  // to the embedded server would point `reset --yes` at the wrong database.
  const flagUrl = options.databaseUrl?.trim();
  const envUrl = env.DATABASE_URL?.trim();
  if (options.databaseUrl !== undefined && !flagUrl) problems.push('--database-url is empty');
  else if (options.databaseUrl === undefined && env.DATABASE_URL !== undefined && !envUrl)
    problems.push('DATABASE_URL is set but empty');
  const url = flagUrl
    ? { text: flagUrl, from: '--database-url' as const }
    : envUrl && options.databaseUrl === undefined
      ? { text: envUrl, from: 'DATABASE_URL' as const }
      : undefined;

  const query: Record<string, string> = {};
  let target: Omit<ServerConnection, 'pool'> | Omit<EmbeddedTarget, 'pool'>;

  if (url) {
    const parsed = parseUrl(url.text, url.from, problems);
    // A URL that does not parse (a port out of range) still has its query checked, so every
    // problem is reported at once.
    const search = parsed ? parsed.search : rawSearch(url.text);
    if (search) Object.assign(query, parseQuery(search, url.from, problems));
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
      ...(env.PGSTORE_SERVER_USER ? { serverUser: env.PGSTORE_SERVER_USER } : {}),
    };
  }

  const pool = resolvePool(query, env, url?.from ?? 'environment', problems);
  if (problems.length > 0) {
    const empty = problems.some((p) => p.endsWith(' is empty') || p.endsWith(' is set but empty'));
    throw new ConfigError(problems.map(redact), {
      hint: empty
        ? 'Give a postgres:// URL, or unset DATABASE_URL (and leave out --database-url) to use PG* variables or the embedded server.'
        : 'Fix the connection settings: see `pgstore --help` and the README section "Configuration".',
    });
  }
  return { ...target, pool } as ConnectionTarget;
}

/** True when any libpq variable names a server, so pgstore should use it. */
export function hasLibpqVariables(env: Env): boolean {
  return ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGUSER', 'PGDATABASE'].some((key) => !!env[key]);
}

export { embeddedHome } from './home.js';

function fromParts(
  source: Exclude<ConnectionSource, 'embedded'>,
  url: URL | undefined,
  query: Record<string, string>,
  env: Env,
  home: string,
  problems: string[],
): Omit<ServerConnection, 'pool'> {
  // Never echoes the value: it may be the password.
  const decode = (value: string, part: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      problems.push(`${source}: malformed percent-encoding in the ${part}`);
      return value;
    }
  };
  if (url?.password) registerSecret(url.password); // masked even if it fails to decode
  const urlHost =
    url?.hostname && url.hostname !== NO_HOST ? decode(url.hostname.replace(/^\[(.*)\]$/, '$1'), 'host') : undefined;
  const host = query.host || urlHost || env.PGHOST || env.PGHOSTADDR || 'localhost';
  const port =
    parsePort(query.port || url?.port || undefined, source, problems) ??
    parsePort(env.PGPORT, 'PGPORT', problems) ??
    5432;
  const user =
    (url?.username ? decode(url.username, 'user name') : undefined) || query.user || env.PGUSER || safeUserName();
  const pathDb = url?.pathname && url.pathname !== '/' ? decode(url.pathname.slice(1), 'database name') : undefined;
  const database = pathDb || query.dbname || env.PGDATABASE || user;
  // Like libpq, an empty password counts as none, so ~/.pgpass is consulted.
  let password =
    (url?.password ? decode(url.password, 'password') : undefined) || query.password || env.PGPASSWORD || undefined;
  if (password === undefined) {
    password = lookupPgpass(pgpassPath(env, home), { host, port, database, user }) || undefined;
  }
  registerSecret(password);

  const sslFrom = query.sslmode ? `sslmode (in ${source})` : 'PGSSLMODE';
  const sslText = query.sslmode || env.PGSSLMODE || undefined;
  let sslmode: SslMode | undefined;
  if (sslText !== undefined) {
    if ((SSL_MODES as readonly string[]).includes(sslText)) sslmode = sslText as SslMode;
    else problems.push(`${sslFrom}: '${sslText}' is not one of ${SSL_MODES.join(', ')}`);
  }

  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(query)) {
    if (Object.hasOwn(POOL_PARAMS, key) || ['host', 'port', 'user', 'password', 'dbname', 'sslmode'].includes(key))
      continue;
    // As libpq: a parameter it does not know is an error (a typo such as sslmod=require
    // would otherwise be dropped silently).
    if (!LIBPQ_KEYWORDS.has(key) && !DBMATE_PARAMS.has(key)) {
      problems.push(`${source}: unknown query parameter '${key}'`);
      continue;
    }
    params[key] = value;
  }
  return { kind: 'server', source, host, port, user, password, database, sslmode, params };
}

function resolvePool(query: Record<string, string>, env: Env, urlFrom: string, problems: string[]): PoolSettings {
  const pool: PoolSettings = { ...DEFAULT_POOL };
  const setBy: Partial<Record<keyof PoolSettings, string>> = {};
  const apply = (key: keyof PoolSettings, raw: string, name: string) => {
    const whole = WHOLE.has(key);
    // Plain decimal only: Number() would also take '0x10', '1e3' and ' 5 '.
    const valid = whole ? /^\d+$/.test(raw) : /^\d+(\.\d+)?$/.test(raw);
    const value = Number(raw);
    const min = key === 'min' ? 0 : whole ? 1 : 0;
    if (!valid || value < min || (!whole && value <= 0)) {
      const kind = whole ? `a whole number ≥ ${min}` : 'a number of seconds > 0';
      problems.push(`${name} must be ${kind}, got '${raw}'`);
      return;
    }
    pool[key] = value;
    setBy[key] = name;
  };
  for (const [name, key] of Object.entries(POOL_ENV)) {
    const raw = env[name];
    if (raw !== undefined && raw !== '') apply(key, raw, name);
  }
  for (const [name, key] of Object.entries(POOL_PARAMS)) {
    const raw = query[name];
    if (raw !== undefined) apply(key, raw, `${name} (in ${urlFrom})`);
  }
  if (pool.min > pool.max) {
    problems.push(
      `${setBy.min ?? 'min_connections'} (${pool.min}) is larger than ${setBy.max ?? 'the default max_connections'} (${pool.max})`,
    );
  }
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
  const auth =
    encodeURIComponent(conn.user) + (withPassword && conn.password ? `:${encodeURIComponent(conn.password)}` : '');
  // A socket directory goes in ?host= (libpq, lib/pq and this resolver read it; Go's URL
  // parser would refuse it percent-encoded in the host part).
  const isSocket = conn.host.startsWith('/');
  const host = isSocket ? '' : conn.host.includes(':') ? `[${conn.host}]` : conn.host;
  const search = new URLSearchParams(startupParams(conn));
  if (isSocket) search.set('host', conn.host);
  if (conn.sslmode) search.set('sslmode', conn.sslmode);
  const qs = search.toString();
  return `postgresql://${auth}@${host}:${conn.port}/${encodeURIComponent(conn.database)}${qs ? `?${qs}` : ''}`;
}

/** Every libpq connection keyword (PostgreSQL 17's list) a URL may carry besides the above. */
/**
 * Not libpq's, but part of a dbmate URL: `search_path` names the schema of dbmate's history
 * table (its first entry) and the session's search_path; pgstore reads it the same way.
 */
const DBMATE_PARAMS = new Set(['search_path']);

const LIBPQ_KEYWORDS = new Set([
  'hostaddr',
  'passfile',
  'connect_timeout',
  'client_encoding',
  'options',
  'application_name',
  'fallback_application_name',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'replication',
  'gssencmode',
  'sslnegotiation',
  'sslcompression',
  'sslcert',
  'sslkey',
  'sslpassword',
  'sslcertmode',
  'sslrootcert',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'requirepeer',
  'require_auth',
  'channel_binding',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'krbsrvname',
  'gsslib',
  'gssdelegation',
  'service',
  'target_session_attrs',
  'load_balance_hosts',
  'requiressl',
]);

/** A short description of the target for messages: user@host:port/db, never the password. */
export function describeTarget(conn: ServerConnection): string {
  return `${conn.user}@${conn.host}:${conn.port}/${conn.database}`;
}

/** The embedded server's target, whatever else is configured (for `pgstore server`). */
export function resolveEmbedded(options: Omit<ResolveOptions, 'databaseUrl'> = {}): EmbeddedTarget {
  const env = options.env ?? process.env;
  const keep = Object.fromEntries(
    Object.entries(env).filter(([key]) => !/^PG[A-Z]+$/.test(key) && key !== 'DATABASE_URL'),
  );
  return resolveConnection({ ...options, env: keep, databaseUrl: undefined }) as EmbeddedTarget;
}
