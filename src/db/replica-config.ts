/**
 * Replica URLs: `connect({ replicaUrl })`, the CLI's `--replica <url>`, or DATABASE_REPLICA_URL.
 * A comma list names several replicas; it is split only before `postgres://` or
 * `postgresql://`, so a libpq multi-host URL (`postgres://a,b/db`) is not cut apart. Each URL
 * resolves as DATABASE_URL does (PGPASSWORD, ~/.pgpass, pool parameters); problems of all of
 * them come out in one ConfigError naming the source.
 */
import { ConfigError } from '../errors.js';
import { type Env, resolveConnection, type ServerConnection } from './config.js';
import { redact } from '../util/redact.js';
import type { ReplicaPool } from './replicas.js';

/** The list's URLs; [] when there are none. */
export function splitReplicaUrls(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const parts = typeof value === 'string' ? value.split(/,(?=\s*postgres(?:ql)?:\/\/)/i) : [...value];
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

/** Resolves each replica URL; `from` names the source in messages (`DATABASE_REPLICA_URL`, `--replica`). */
export function resolveReplicas(
  value: string | readonly string[] | undefined,
  env: Env,
  from: string,
): ServerConnection[] {
  const urls = splitReplicaUrls(value);
  if (value !== undefined && urls.length === 0) {
    throw new ConfigError([`${from} is empty`], {
      hint: 'Give one or more postgres:// URLs of streaming replicas, separated by commas.',
    });
  }
  const problems: string[] = [];
  const conns: ServerConnection[] = [];
  for (const [i, url] of urls.entries()) {
    try {
      // The URL alone: DATABASE_URL must not stand in for a replica.
      const { DATABASE_URL: _primary, ...rest } = env;
      conns.push(resolveConnection({ databaseUrl: url, env: rest }) as ServerConnection);
    } catch (error) {
      const lines = error instanceof ConfigError ? error.problems : [String(error)];
      for (const line of lines)
        problems.push(
          `${from}${urls.length > 1 ? ` (replica ${i + 1})` : ''}: ${line.replace(/--database-url/g, 'URL')}`,
        );
    }
  }
  if (problems.length > 0)
    throw new ConfigError(problems.map(redact), {
      hint: 'Fix the replica URL(s): postgres://user@host:port/database, separated by commas.',
    });
  return conns;
}

/**
 * Lazy connections per replica (opened on first read), `max` of them (the connection's pool
 * size by default), each bounded: connect_timeout and statement_timeout of `timeoutMs`, so a
 * replica that hangs fails within it. Each is a pool of its own (replica-connection.ts says why).
 */
export async function openReplicaPools(
  conns: ServerConnection[],
  options: { timeoutMs: number; max?: number; applicationName?: string },
): Promise<ReplicaPool[]> {
  const { openReplicaConnections } = await import('./replica-connection.js');
  return Promise.all(
    conns.map(async (conn) => ({
      name: `${conn.host}:${conn.port}`,
      connections: await openReplicaConnections(
        { ...conn, params: { ...conn.params, statement_timeout: String(Math.max(1, Math.round(options.timeoutMs))) } },
        options.max ?? conn.pool.max,
        { connectTimeoutSeconds: options.timeoutMs / 1000, applicationName: options.applicationName },
      ),
    })),
  );
}
