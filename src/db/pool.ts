/**
 * Pools on a connection target: the embedded server started when it is the target, the first
 * round trip proved within the connect timeout. The driver itself is in driver.ts.
 */
import type { ConnectionTarget, ServerConnection } from './config.js';
import { connectionError, type Db, isCertificateRefused, openPool, type PoolOptions } from './driver.js';
import type { EnsureOptions } from './embedded.js';
import { NOT_POSTGRES } from './startup-guard.js';

export {
  connectionError,
  type Db,
  driverOptions,
  isConnectFailure,
  openPool,
  type PoolOptions,
  sessionUsesSsl,
  withAdminSql,
} from './driver.js';
export { type SharedPool, sharedPool } from './shared-pool.js';

/**
 * Ends a pool whose queries are all answered: the driver writes the Terminate at once (on an
 * idle connection), and this resolves a turn of the event loop later, without waiting for the
 * server to close its end or for the driver's timeout timer (`end({ timeout: 0 })` is a timer:
 * a millisecond or more at the end of every `migrate up`). The driver's own ending goes on.
 */
export function endPromptly(sql: Db): Promise<void> {
  const ending = sql.end({ timeout: 0 });
  ending.catch(() => undefined);
  return Promise.race([ending, new Promise<void>((resolve) => setImmediate(resolve))]);
}

/** Resolves the embedded target to a running server; a server connection is returned as is. */
export async function serverFor(target: ConnectionTarget, options: EnsureOptions = {}): Promise<ServerConnection> {
  if (target.kind !== 'embedded') return target;
  // Loaded only for the embedded server: a command on a server URL does not pay for it.
  const { ensureEmbedded } = await import('./embedded.js');
  const conn = await ensureEmbedded(target, options);
  return target.lockTimeoutMs === undefined ? conn : { ...conn, lockTimeoutMs: target.lockTimeoutMs };
}

/**
 * Opens a pool on `target` (starting the embedded server if needed) and proves it with a
 * round trip, turning connection failures into one clear ConnectionError. `prove` is that
 * round trip when the caller has a first query of its own (its result is `proof`): a
 * `select 1` before it would cost one more.
 */
export async function connectPool<T = undefined>(
  target: ConnectionTarget,
  options: PoolOptions & EnsureOptions & { prove?: (sql: Db, conn: ServerConnection) => Promise<T> } = {},
): Promise<{ sql: Db; conn: ServerConnection; proof: T | undefined }> {
  const conn = await serverFor(target, options);
  const sql = await openPool(conn, options);
  let proof: T | undefined;
  try {
    if (options.prove) proof = await withinConnectDeadline(options.prove(sql, conn), conn, options);
    else await withinConnectDeadline(sql`select 1`, conn, options);
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => undefined);
    throw connectionError(error, conn, options.database);
  }
  if (conn.pool.min > 1) {
    // Pre-open min_connections so the first burst of queries does not wait for handshakes.
    const warm = Math.min(conn.pool.min, options.max ?? conn.pool.max);
    await Promise.all(Array.from({ length: warm - 1 }, () => sql`select 1`)).catch(() => undefined);
  }
  return { sql, conn, proof };
}

/**
 * Connects to `target` (connectPool: the embedded server started if needed, the connection
 * proven), runs `fn` with the pool and the server connection, and closes the pool whatever
 * happens. The one way a core operation borrows a pool for its own duration.
 */
export async function withPool<T>(
  target: ConnectionTarget,
  options: PoolOptions & EnsureOptions,
  fn: (sql: Db, conn: ServerConnection) => Promise<T>,
): Promise<T> {
  const { sql, conn } = await connectPool(target, options);
  try {
    return await fn(sql, conn);
  } finally {
    await sql.end({ timeout: 5 }).catch(() => undefined);
  }
}

/** Slack past the driver's own connect timer before the deadline gives up on its own. */
const DEADLINE_SLACK_MS = 500;

/**
 * The first round trip ends within the connect timeout whatever the driver does: the driver's
 * connect timer covers a silent server, startup-guard.ts a server that is not PostgreSQL, and
 * this deadline anything left (a TLS startup the guard cannot see into).
 */
async function withinConnectDeadline<T>(first: Promise<T>, conn: ServerConnection, options: PoolOptions): Promise<T> {
  const seconds = options.connectTimeoutSeconds ?? conn.pool.acquireTimeoutSeconds;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('connect deadline passed'), { code: 'CONNECT_TIMEOUT' })),
      seconds * 1000 + DEADLINE_SLACK_MS,
    );
  });
  try {
    return await Promise.race([first, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// Another kind of server on the port will not turn into PostgreSQL by waiting; a close during
// startup (a proxy whose server is not up yet) might, so that one is waited out.
const FATAL_CONNECT_CODES = new Set([
  '28P01',
  '28000',
  '3D000',
  'SASL_SIGNATURE_MISMATCH',
  'AUTH_TYPE_NOT_IMPLEMENTED',
  NOT_POSTGRES,
]);

/**
 * Waits until the server accepts a connection (for CI steps that start before it). A bad
 * password, a missing role or a missing database fails at once: waiting cannot fix those.
 */
export async function waitForServer(
  conn: ServerConnection,
  timeoutSeconds: number,
  log?: (m: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let told = false;
  for (;;) {
    const remaining = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const connectTimeoutSeconds = Math.min(5, remaining);
    const sql = await openPool(conn, { max: 1, connectTimeoutSeconds });
    try {
      await withinConnectDeadline(sql`select 1`, conn, { connectTimeoutSeconds });
      return;
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      // A refused certificate is not fixed by waiting either.
      if (FATAL_CONNECT_CODES.has(code) || isCertificateRefused(code) || Date.now() >= deadline) {
        const failure = connectionError(error, conn);
        if (!FATAL_CONNECT_CODES.has(code) && !isCertificateRefused(code))
          failure.message = `${failure.message} (still failing after waiting ${timeoutSeconds} s)`;
        throw failure;
      }
      if (!told) log?.(`Waiting for ${conn.host}:${conn.port} to accept connections (up to ${timeoutSeconds} s)...`);
      told = true;
    } finally {
      await sql.end({ timeout: 0 }).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
