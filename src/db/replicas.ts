/**
 * Reads on streaming replicas, never staler than the caller allows, else on the primary.
 *
 * - Read-your-writes: every write through the library bumps a counter (noteWrite). The first
 *   replica read after writes goes to the primary (reason `recentWrite`) and, beside it, learns
 *   the primary's WAL insert position; later reads need a replica that has replayed it.
 * - The gate statement is pipelined just before the read on one replica connection (one round
 *   trip): the read's snapshot is taken after the gate, so it holds at least what the gate saw;
 *   when the gate says "behind" or "too stale" the replica's answer is dropped and the primary
 *   answers.
 * - The gate is skipped when its answer is known: replay on one backend only moves forward, so
 *   what a gate proved on a connection holds for every later statement on that same connection
 *   (replica-connection.ts: per connection only, dropped when it closes or errors, never shared:
 *   a restarted standby can serve reads behind what it had replayed). Counted as skippedGates.
 * - maxLagMs: a gate that measured staleness L at local time t (taken before sending) proves
 *   staleness ≤ L + (now − t) later on that connection, so the gate is repeated only when that
 *   bound passes the limit (and always when the connection's replayed position is short of the
 *   caller's own writes).
 * - A replica that refuses connections, times out (client deadline = timeoutMs, server
 *   statement_timeout too) or is not a standby is skipped for retryAfterMs; the read goes to the
 *   primary. Every outcome is counted (stats()).
 */
import { PgstoreError } from '../errors.js';
import type { Queryable } from '../types/sql.js';
import type { Db } from './pool.js';
import { isConnectFailure } from './pool.js';
import { pickConnection, type ReplicaConnection } from './replica-connection.js';
import { formatLsn, gateQuery, parseLsn, primaryPosition } from './replica-sql.js';

/** `closed`: the replica connection closed during the read (it may have run on a new backend). */
export const FALLBACK_REASONS = [
  'recentWrite',
  'behind',
  'lag',
  'down',
  'timeout',
  'error',
  'notStandby',
  'closed',
] as const;
/** Why a replica read went to the primary. */
export type FallbackReason = (typeof FALLBACK_REASONS)[number];

export interface ReplicaSettings {
  /** Longest staleness a read accepts, in ms; none by default (only read-your-writes). */
  maxLagMs?: number | undefined;
  /** Bound on a replica attempt (connect, queue, statement), in ms (default 2000). */
  timeoutMs?: number;
  /** How long a failed replica is left alone before it is tried again, in ms (default 5000). */
  retryAfterMs?: number;
  /** Ignore what gates proved on each connection: a gate before every replica read (benchmarks). */
  gateEveryRead?: boolean;
}

export interface ReadOptions {
  /** Overrides the default maxLagMs for this read. */
  maxLagMs?: number | undefined;
  /** A WAL position (from writePosition(), maybe of another process) the replica must have replayed. */
  after?: string | undefined;
}

export interface ReplicaStats {
  /** Reads answered by a replica. */
  replicaReads: number;
  /** Reads answered by the primary (every fallback, and every read when no replica is configured). */
  primaryReads: number;
  fallbacks: Record<FallbackReason, number>;
  /** Gate statements sent (a read that needed proof of freshness). */
  gates: number;
  /** Replica reads sent without a gate: their connection had already proved what they need. */
  skippedGates: number;
  /**
   * Per replica; `replayed`: the highest position any gate saw (shown, never used to skip a
   * gate); `closes`: connection closes seen (each drops what that connection had proved).
   */
  replicas: Array<{ name: string; reads: number; skippedUntil: Date | null; replayed: string | null; closes: number }>;
}

export interface ReplicaPool {
  /** For stats and messages: host:port, never the password. */
  name: string;
  /** Its connections, each with what gates proved on it (replica-connection.ts). */
  connections: ReplicaConnection[];
}

interface ReplicaState extends ReplicaPool {
  reads: number;
  /** Highest replayed position a gate saw (stats only). */
  replayed: bigint;
  downUntil: number;
}

const DEFAULTS = { timeoutMs: 2000, retryAfterMs: 5000 };

/**
 * Whose writes a read must see: the whole Database by default, or one session's
 * (`db.session()`: a request, a user), so one client's writes do not send every other
 * client's reads to the primary.
 */
export class WriteScope {
  /** Writes noted (finished) so far. */
  writes = 0;
  /** A primary position known to cover the first `writes` writes. */
  position = { lsn: 0n, writes: 0 };
  refreshing: { writes: number; promise: Promise<bigint> } | undefined;
}

class Fallback extends Error {
  constructor(
    readonly reason: FallbackReason,
    readonly down: boolean,
  ) {
    super(reason);
  }
}

export class ReplicaRouter {
  private readonly replicas: ReplicaState[];
  private readonly settings: Required<Omit<ReplicaSettings, 'maxLagMs'>> & { maxLagMs: number | undefined };
  private primarySql: Promise<Db> | undefined;
  private next = 0;
  /** The scope of reads and writes when the caller names none: the whole Database. */
  readonly scope = new WriteScope();
  private readonly counts = {
    replicaReads: 0,
    primaryReads: 0,
    gates: 0,
    skippedGates: 0,
    fallbacks: Object.fromEntries(FALLBACK_REASONS.map((r) => [r, 0])) as Record<FallbackReason, number>,
  };

  /** `primary`: a pool, or `{ open }` opening one on first need (the CLI's --replica). */
  constructor(
    private readonly primary: Db | { open: () => Promise<Db> },
    replicas: ReplicaPool[],
    settings: ReplicaSettings = {},
  ) {
    this.replicas = replicas.map((r) => ({ ...r, reads: 0, replayed: -1n, downUntil: 0 }));
    this.settings = { ...DEFAULTS, gateEveryRead: false, ...settings, maxLagMs: settings.maxLagMs };
  }

  /** Records that a write through the library finished (committed or not). */
  noteWrite(scope: WriteScope = this.scope): void {
    scope.writes++;
    // A session's write is also the Database's (its reads must see it too).
    if (scope !== this.scope) this.scope.writes++;
  }

  /** A WAL position covering every write noted so far in `scope` (for `after` in another process). */
  async writePosition(scope: WriteScope = this.scope): Promise<string> {
    return formatLsn(await this.requiredPosition(scope));
  }

  /** Runs `read` on a replica when one is fresh enough, else on the primary. */
  async read<T>(
    read: (sql: Queryable) => Promise<T>,
    options: ReadOptions = {},
    scope: WriteScope = this.scope,
  ): Promise<T> {
    if (this.replicas.length === 0) return this.onPrimary(read, undefined);
    if (scope.writes > scope.position.writes) {
      // Just wrote: the replica is most likely behind. Ask the primary, and learn its position.
      this.requiredPosition(scope).catch(() => undefined);
      return this.onPrimary(read, 'recentWrite');
    }
    const replica = this.pick();
    if (!replica) return this.onPrimary(read, 'down');
    const needed = options.after ? maxOf(parseLsn(options.after), scope.position.lsn) : scope.position.lsn;
    const maxLagMs = 'maxLagMs' in options ? options.maxLagMs : this.settings.maxLagMs;
    try {
      const result = await this.withDeadline(this.onReplica(replica, read, needed, maxLagMs));
      replica.reads++;
      this.counts.replicaReads++;
      return result;
    } catch (error) {
      const fallback = error instanceof Fallback ? error : classify(error);
      if (!fallback) throw error;
      if (fallback.down) {
        replica.downUntil = Date.now() + this.settings.retryAfterMs;
        // Whatever comes back may be a restarted server: no connection keeps a proof.
        for (const connection of replica.connections) connection.forget();
      }
      return this.onPrimary(read, fallback.reason);
    }
  }

  stats(): ReplicaStats {
    return {
      ...this.counts,
      fallbacks: { ...this.counts.fallbacks },
      replicas: this.replicas.map((r) => ({
        name: r.name,
        reads: r.reads,
        skippedUntil: r.downUntil > Date.now() ? new Date(r.downUntil) : null,
        replayed: r.replayed >= 0n ? formatLsn(r.replayed) : null,
        closes: r.connections.reduce((n, c) => n + c.closes, 0),
      })),
    };
  }

  /** Closes the replica pools (and the primary's, when the router opened it). */
  async close(): Promise<void> {
    await Promise.all(
      this.replicas.flatMap((r) => r.connections.map((c) => c.sql.end({ timeout: 5 }).catch(() => undefined))),
    );
    if ('open' in this.primary && this.primarySql)
      await (await this.primarySql).end({ timeout: 5 }).catch(() => undefined);
  }

  private async onReplica<T>(
    replica: ReplicaState,
    read: (sql: Queryable) => Promise<T>,
    needed: bigint,
    maxLagMs: number | undefined,
  ): Promise<T> {
    const connection = pickConnection(replica.connections, needed, maxLagMs, this.settings.gateEveryRead);
    // The backend the decision is about: any close from here on may put the read on another one.
    const closes = connection.closes;
    connection.inFlight++;
    try {
      if (!this.settings.gateEveryRead && connection.proves(needed, maxLagMs)) {
        const result = await read(connection.sql);
        if (connection.closes !== closes) throw new Fallback('closed', false);
        this.counts.skippedGates++;
        return result;
      }
      this.counts.gates++;
      const sentAt = performance.now();
      // Sent first, so the read (queued behind it on this one connection) sees at least as much.
      const gate = gateQuery(connection.sql, maxLagMs !== undefined).execute();
      const answer = read(connection.sql);
      const [gated, result] = await Promise.allSettled([gate, answer]);
      if (gated.status === 'rejected') throw gated.reason;
      // A close between the gate and the read's answer: the read may have run on a new backend.
      if (connection.closes !== closes) throw new Fallback('closed', false);
      const row = gated.value[0]!;
      if (row.replay === null) throw new Fallback('notStandby', true);
      const replayed = parseLsn(row.replay);
      if (replayed > replica.replayed) replica.replayed = replayed;
      const lag = maxLagMs !== undefined ? { lagMs: row.lag_ms ?? Infinity, lagAt: sentAt } : undefined;
      connection.learn(closes, replayed, lag);
      if (replayed < needed) throw new Fallback('behind', false);
      if (lag && lag.lagMs > maxLagMs!) throw new Fallback('lag', false);
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    } catch (error) {
      // An error on the connection (not a gate's "behind"/"lag"): assume nothing about it.
      if (!(error instanceof Fallback) || error.down || error.reason === 'closed') connection.forget();
      throw error;
    } finally {
      connection.inFlight--;
    }
  }

  private async onPrimary<T>(read: (sql: Queryable) => Promise<T>, reason: FallbackReason | undefined): Promise<T> {
    this.counts.primaryReads++;
    if (reason) this.counts.fallbacks[reason]++;
    return read(await this.primaryPool());
  }

  private primaryPool(): Promise<Db> {
    const primary = this.primary;
    if (!('open' in primary)) return Promise.resolve(primary);
    this.primarySql ??= primary.open();
    return this.primarySql;
  }

  /** The primary's position after every noted write (one fetch shared by concurrent reads). */
  private async requiredPosition(scope: WriteScope): Promise<bigint> {
    const writes = scope.writes;
    if (writes <= scope.position.writes) return scope.position.lsn;
    // A fetch that started after these writes covers them.
    if (!scope.refreshing || scope.refreshing.writes < writes) {
      const promise = this.primaryPool().then(primaryPosition);
      scope.refreshing = { writes, promise };
      promise.then(
        (lsn) => {
          if (writes > scope.position.writes) scope.position = { lsn: maxOf(lsn, scope.position.lsn), writes };
          if (scope.refreshing?.promise === promise) scope.refreshing = undefined;
        },
        () => {
          if (scope.refreshing?.promise === promise) scope.refreshing = undefined;
        },
      );
    }
    await scope.refreshing.promise;
    return scope.position.lsn;
  }

  /** The next replica not being left alone, round robin. */
  private pick(): ReplicaState | undefined {
    const now = Date.now();
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.next + i) % this.replicas.length]!;
      if (replica.downUntil <= now) {
        this.next = (this.next + i + 1) % this.replicas.length;
        return replica;
      }
    }
    return undefined;
  }

  /** The replica attempt, bounded: a replica that hangs does not hang the read. */
  private withDeadline<T>(attempt: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Fallback('timeout', true)), this.settings.timeoutMs);
    });
    // The abandoned attempt settles later (statement_timeout, connect timeout): nobody waits for it.
    attempt.catch(() => undefined);
    return Promise.race([attempt, deadline]).finally(() => clearTimeout(timer));
  }
}

const maxOf = (a: bigint, b: bigint) => (a > b ? a : b);

/** A replica failure the primary can answer instead; undefined for an error the primary would give too. */
function classify(error: unknown): Fallback | undefined {
  const code = driverCode(error);
  if (isConnectFailure(error) || (code !== undefined && isConnectFailure({ code }))) return new Fallback('down', true);
  if (code === '57014') return new Fallback('timeout', true); // statement_timeout on the replica
  // Recovery conflicts (40001, 40P01) and read-only refusals (25006): the primary has neither.
  if (code === '40001' || code === '40P01' || code === '25006') return new Fallback('error', false);
  return undefined;
}

/** The driver's SQLSTATE or code, under the store's mapping if any. */
function driverCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !(e instanceof PgstoreError)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
