/**
 * What a child program (psql, pg_dump, pg_restore, dbmate) needs to connect, as libpq reads it
 * from its environment. The db layer's ServerConnection has this shape; tools does not import db.
 */

/** The fields of a resolved server connection a libpq program uses. */
export interface LibpqConnection {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  database: string;
  sslmode: string | undefined;
  /** Other libpq query parameters from the URL (application_name, options, ...). */
  params: Record<string, string>;
  pool: { acquireTimeoutSeconds: number };
  /** A role the session switches to at login: rendered as `-c role=...` (startupOptions). */
  role?: string | undefined;
}

/** The `options` startup parameter of a session: the URL's own, then the switch to `conn.role`. */
export function startupOptions(conn: Pick<LibpqConnection, 'params' | 'role'>): string | undefined {
  const parts = [conn.params.options, conn.role ? `-c role=${conn.role}` : undefined].filter(Boolean);
  return parts.length ? parts.join(' ') : undefined;
}

/** `conn.params` with `options` as a session must start with (startupOptions). */
export function startupParams(conn: Pick<LibpqConnection, 'params' | 'role'>): Record<string, string> {
  const options = startupOptions(conn);
  return options === undefined ? conn.params : { ...conn.params, options };
}

/** libpq environment for a child program (psql, pg_dump, dbmate): the password never goes in argv. */
export function libpqEnv(conn: LibpqConnection): Record<string, string> {
  const env: Record<string, string> = {
    PGHOST: conn.host,
    PGPORT: String(conn.port),
    PGUSER: conn.user,
    PGDATABASE: conn.database,
  };
  if (conn.password) env.PGPASSWORD = conn.password;
  if (conn.sslmode) env.PGSSLMODE = conn.sslmode;
  // The other URL parameters a child program would lose otherwise (sslrootcert for
  // verify-full, connect_timeout, ...): libpq reads each from its own variable.
  for (const [key, value] of Object.entries(startupParams(conn))) {
    const name = LIBPQ_PARAM_ENV.get(key);
    if (name && value !== '') env[name] = value;
  }
  // A child never waits longer to connect than pgstore's own pool (a silent port would
  // otherwise hold psql or pg_dump for good: libpq's default is no limit).
  env.PGCONNECT_TIMEOUT ??= String(conn.pool.acquireTimeoutSeconds);
  return env;
}

/** libpq connection parameters and the environment variable libpq reads each from. */
const LIBPQ_PARAM_ENV = new Map<string, string>(
  Object.entries({
    application_name: 'PGAPPNAME',
    options: 'PGOPTIONS',
    connect_timeout: 'PGCONNECT_TIMEOUT',
    client_encoding: 'PGCLIENTENCODING',
    sslcert: 'PGSSLCERT',
    sslkey: 'PGSSLKEY',
    sslrootcert: 'PGSSLROOTCERT',
    sslcrl: 'PGSSLCRL',
    sslcrldir: 'PGSSLCRLDIR',
    sslsni: 'PGSSLSNI',
    ssl_min_protocol_version: 'PGSSLMINPROTOCOLVERSION',
    ssl_max_protocol_version: 'PGSSLMAXPROTOCOLVERSION',
    sslcompression: 'PGSSLCOMPRESSION',
    gssencmode: 'PGGSSENCMODE',
    krbsrvname: 'PGKRBSRVNAME',
    gsslib: 'PGGSSLIB',
    channel_binding: 'PGCHANNELBINDING',
    require_auth: 'PGREQUIREAUTH',
    requirepeer: 'PGREQUIREPEER',
    target_session_attrs: 'PGTARGETSESSIONATTRS',
    load_balance_hosts: 'PGLOADBALANCEHOSTS',
  }),
);
