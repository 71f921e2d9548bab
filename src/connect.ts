/**
 * The library's entry to the database: `connect(options)` or `connect(url, options)` resolves
 * the connection exactly as the CLI does, and returns every store plus `transaction(fn)` and
 * `close()`. An option it does not know is a ValidationError (never silently ignored).
 */
import { ValidationError } from './errors.js';
import { type Env, resolveConnection, type ServerConnection } from './db/config.js';
import { connectPool, type Db } from './db/pool.js';
import { mapHostsError } from './store/hosts/index.js';
import { createStores, type Stores } from './store/index.js';
import { openReplicaPools, resolveReplicas } from './db/replica-config.js';
import { type ReadOptions, ReplicaRouter, type ReplicaSettings, type ReplicaStats, WriteScope } from './db/replicas.js';
import { type ReplicaStores, replicaStores, trackWrites } from './store/replica-reads.js';

export interface ConnectOptions {
  /** A database URL; else DATABASE_URL, PG* variables, or the embedded server (as the CLI). */
  databaseUrl?: string;
  /** The environment to resolve from (default: process.env). */
  env?: Env;
  /** Pool size override. */
  max?: number;
  /** application_name reported to the server. */
  applicationName?: string;
  /**
   * Streaming replicas for `db.replica` reads: a URL, a comma list or an array (default:
   * DATABASE_REPLICA_URL of `env`). Without one, `db.replica` reads on the primary.
   */
  replicaUrl?: string | string[];
  /** How replica reads are bounded: maxLagMs (staleness), timeoutMs, retryAfterMs. */
  replica?: Omit<ReplicaSettings, 'gateEveryRead'>;
}

/** Stores and replica reads scoped to one client (a request, a user): its reads see its own writes. */
export type ClientScope = Stores & {
  /** Runs `fn` in one transaction (its writes count as the scope's). */
  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T>;
  /** Replica reads that must see this scope's writes (not every write through the Database). */
  replica: ReplicaStores;
  onReplica(options: ReadOptions): ReplicaStores;
  /** The primary's WAL position after this scope's writes. */
  writePosition(): Promise<string>;
};

export type Database = Stores & {
  /** The underlying postgres.js instance. */
  sql: Db;
  /** Where it is connected (password included: do not log it). */
  connection: ServerConnection;
  /** Runs `fn` with stores that share one transaction: all or nothing. */
  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T>;
  /**
   * The stores' read methods that tolerate staleness, on a replica when one has replayed this
   * Database's writes (and is within maxLagMs), else on the primary. Writes are not on it.
   */
  replica: ReplicaStores;
  /** `replica` with this read's own bound: `{ maxLagMs }`, or `{ after }` a writePosition() of another process. */
  onReplica(options: ReadOptions): ReplicaStores;
  /** Where replica reads went: replica, primary, and each fallback's reason. */
  replicaStats(): ReplicaStats;
  /** The primary's WAL position after this Database's writes (pass as `after` elsewhere). */
  writePosition(): Promise<string>;
  /** Tells replica routing about a write made outside the stores (on `sql`). */
  noteWrite(): void;
  /**
   * Stores and replica reads of one client (a request, a user): its replica reads wait only
   * for its own writes. With `db.replica`, any write through this Database sends the next
   * reads to the primary until a replica has replayed it.
   */
  clientScope(): ClientScope;
  /** Closes the pools. */
  close(): Promise<void>;
};

const KNOWN: Record<keyof ConnectOptions, string> = {
  databaseUrl: 'a database URL (string)',
  env: 'an object of environment variables',
  max: 'a whole number ≥ 1',
  applicationName: 'a string',
  replicaUrl: 'a replica URL, a comma list of them, or an array of URLs',
  replica: 'an object: { maxLagMs?, timeoutMs?, retryAfterMs? } (ms ≥ 0)',
};
// Names other libraries use for the URL; the nearest spelling would not find databaseUrl.
const URL_ALIASES = new Set([
  'url',
  'uri',
  'connectionstring',
  'connectionurl',
  'dsn',
  'database',
  'databaseuri',
  'dburl',
]);

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known option a mistyped key most likely meant, if any. */
function nearest(key: string): string | undefined {
  if (URL_ALIASES.has(key.toLowerCase().replace(/[_-]/g, ''))) return 'databaseUrl';
  const [best] = Object.keys(KNOWN)
    .map((known) => ({ known, d: distance(key.toLowerCase(), known.toLowerCase()) }))
    .sort((x, y) => x.d - y.d);
  return best && best.d <= Math.max(2, Math.floor(best.known.length / 3)) ? best.known : undefined;
}

/** The options checked: unknown keys and values of the wrong type are a ValidationError naming the key. */
function checkOptions(urlOrOptions: unknown, more: unknown): ConnectOptions {
  const fromUrl = typeof urlOrOptions === 'string';
  const options = (fromUrl ? more : urlOrOptions) ?? {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError(
      `connect: options must be an object, not ${Array.isArray(options) ? 'an array' : typeof options}`,
      { field: 'options' },
    );
  }
  if (!fromUrl && more !== undefined) {
    throw new ValidationError('connect: a second argument is only taken after a URL: connect(url, options)', {
      field: 'options',
    });
  }
  for (const key of Object.keys(options)) {
    if (key in KNOWN) continue;
    const guess = nearest(key);
    throw new ValidationError(`connect: unknown option '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}`, {
      field: key,
      hint: `Known options: ${Object.keys(KNOWN).join(', ')}.`,
    });
  }
  const o = options as Record<string, unknown>;
  const bad = (key: keyof ConnectOptions) =>
    new ValidationError(`connect: ${key} must be ${KNOWN[key]}`, { field: key });
  if (o.databaseUrl !== undefined && typeof o.databaseUrl !== 'string') throw bad('databaseUrl');
  if (o.env !== undefined && (typeof o.env !== 'object' || o.env === null)) throw bad('env');
  if (o.max !== undefined && !(Number.isInteger(o.max) && (o.max as number) >= 1)) throw bad('max');
  if (o.applicationName !== undefined && typeof o.applicationName !== 'string') throw bad('applicationName');
  if (
    o.replicaUrl !== undefined &&
    typeof o.replicaUrl !== 'string' &&
    !(Array.isArray(o.replicaUrl) && o.replicaUrl.every((u) => typeof u === 'string'))
  )
    throw bad('replicaUrl');
  if (o.replica !== undefined) checkReplicaSettings(o.replica, bad('replica'));
  if (fromUrl) {
    if (o.databaseUrl !== undefined)
      throw new ValidationError('connect: the URL is given twice (argument and databaseUrl)', { field: 'databaseUrl' });
    return { ...(options as ConnectOptions), databaseUrl: urlOrOptions };
  }
  return options as ConnectOptions;
}

function checkReplicaSettings(value: unknown, bad: ValidationError): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad;
  for (const [key, ms] of Object.entries(value)) {
    if (!['maxLagMs', 'timeoutMs', 'retryAfterMs'].includes(key)) {
      throw new ValidationError(`connect: unknown replica option '${key}'`, {
        field: `replica.${key}`,
        hint: 'Known: maxLagMs, timeoutMs, retryAfterMs.',
      });
    }
    if (ms !== undefined && !(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)) {
      throw new ValidationError(`connect: replica.${key} must be a number of ms ≥ 0`, { field: `replica.${key}` });
    }
  }
}

/**
 * Connects and builds the stores: `connect(options)` or, like postgres.js, `connect(url, options)`.
 * Without a URL it resolves as the CLI does (DATABASE_URL, PG* variables, the embedded server).
 */
export async function connect(options?: ConnectOptions): Promise<Database>;
export async function connect(url: string, options?: Omit<ConnectOptions, 'databaseUrl'>): Promise<Database>;
export async function connect(
  urlOrOptions?: string | ConnectOptions,
  more?: Omit<ConnectOptions, 'databaseUrl'>,
): Promise<Database> {
  const options = checkOptions(urlOrOptions, more);
  const target = resolveConnection({ databaseUrl: options.databaseUrl, env: options.env ?? process.env });
  const env = options.env ?? process.env;
  const replicaConns =
    options.replicaUrl !== undefined
      ? resolveReplicas(options.replicaUrl, env, 'replicaUrl')
      : resolveReplicas(env.DATABASE_REPLICA_URL, env, 'DATABASE_REPLICA_URL');
  // The library's pool keeps the driver's array-type lookup at connect (fetch_types), unlike
  // the CLI's (db/array-types.ts): callers get `sql`, and arrays of their own types (an enum's)
  // come back parsed, as from any postgres.js pool; reserve() works with the lookup on.
  const { sql, conn } = await connectPool(target, {
    max: options.max,
    applicationName: options.applicationName,
    fetchTypes: true,
  });
  const timeoutMs = options.replica?.timeoutMs ?? 2000;
  const replicas = await openReplicaPools(replicaConns, {
    timeoutMs,
    max: options.max,
    applicationName: options.applicationName,
  });
  const router = new ReplicaRouter(sql, replicas, { ...options.replica, timeoutMs });
  const noteWrite = () => router.noteWrite();
  // Writes are tracked only when there is a replica to keep up with (no cost otherwise).
  const stores = replicas.length > 0 ? trackWrites(createStores(sql), noteWrite) : createStores(sql);
  const onReplica = (read: ReadOptions, scope = router.scope) =>
    replicaStores((call) => router.read(call, read, scope));
  const transaction = async <T>(fn: (stores: Stores) => Promise<T>, note: () => void): Promise<T> => {
    try {
      return (await sql.begin((tx) => fn(createStores(tx)))) as T;
    } catch (error) {
      // Deferred constraints fail at COMMIT, outside every store's own mapping.
      throw mapHostsError(error, [], { entity: 'record' });
    } finally {
      if (replicas.length > 0) note();
    }
  };
  const clientScope = (): ClientScope => {
    const scope = new WriteScope();
    const note = () => router.noteWrite(scope);
    return {
      ...(replicas.length > 0 ? trackWrites(createStores(sql), note) : createStores(sql)),
      transaction: (fn) => transaction(fn, note),
      replica: onReplica({}, scope),
      onReplica: (read) => onReplica(read, scope),
      writePosition: () => router.writePosition(scope),
    };
  };
  return {
    ...stores,
    sql,
    connection: conn,
    transaction: (fn) => transaction(fn, noteWrite),
    clientScope,
    replica: onReplica({}),
    onReplica,
    replicaStats: () => router.stats(),
    writePosition: () => router.writePosition(),
    noteWrite,
    close: async () => {
      await router.close();
      await sql.end({ timeout: 5 });
    },
  };
}
