/**
 * One replica connection and what a read-your-writes gate proved on it.
 *
 * Why per connection: replay on a standby only moves forward while the server runs, so once a
 * gate on a backend saw replayed position R, every later statement on that same backend sees at
 * least R, and a read needing ≤ R may skip the gate. Nothing carries over to another backend: a
 * standby that crashes and restarts accepts reads once it is consistent (minRecoveryPoint),
 * which can be behind what it had replayed before, and only the connections that died say so.
 *
 * How the connection is known: postgres.js's `reserve()` does not say which of its connections
 * it handed out, and one of its Connection objects reconnects under the same id. So each
 * replica connection is a postgres.js pool of max 1 (exactly one Connection object, queries in
 * FIFO order on it), and the driver's `onclose` option counts its closes. It fires from the
 * socket's close handler (node_modules/postgres/src/connection.js `closed()`), for every close
 * after the handshake; a socket that closes during the handshake (`initial` set) reconnects
 * without it, but no statement of ours ran there. A proof is valid only while the close count
 * is the one it was taken under, and a read that skipped the gate is kept only if no close
 * happened between the decision and its answer (else it may have run on a new backend).
 */
import type { ServerConnection } from './config.js';
import type { Db, PoolOptions } from './driver.js';

/** What one gate on this connection proved. */
export interface GateProof {
  /** Replayed position the gate saw (this backend has at least this much). */
  replayed: bigint;
  /** Staleness measured (Infinity when the gate did not measure it), and when it was sent. */
  lagMs: number;
  lagAt: number;
}

export class ReplicaConnection {
  /** Closes the driver reported for this connection. */
  closes = 0;
  /** Reads running on it (the router prefers idle connections). */
  inFlight = 0;
  private proof: (GateProof & { closes: number }) | undefined;
  sql!: Db;

  /** The driver saw the socket close: the next backend knows nothing of this one's replay. */
  noteClosed(): void {
    this.closes++;
    this.proof = undefined;
  }

  /** Forgets the proof (an error on the connection: nothing is assumed about it). */
  forget(): void {
    this.proof = undefined;
  }

  /** The proof, if it is still about the current backend. */
  known(): GateProof | undefined {
    return this.proof && this.proof.closes === this.closes ? this.proof : undefined;
  }

  /** True when the proof covers `needed` and, if asked, staleness ≤ maxLagMs now. */
  proves(needed: bigint, maxLagMs: number | undefined): boolean {
    const known = this.known();
    if (!known || known.replayed < needed) return false;
    return maxLagMs === undefined || known.lagMs + (performance.now() - known.lagAt) <= maxLagMs;
  }

  /**
   * Records a gate's answer, if the backend that gave it is still the current one (`closes`:
   * the count when the gate was sent). A gate without a lag keeps the lag measured before.
   */
  learn(closes: number, replayed: bigint, lag: { lagMs: number; lagAt: number } | undefined): void {
    if (closes !== this.closes) return;
    const before = this.known();
    this.proof = {
      closes,
      replayed: before && before.replayed > replayed ? before.replayed : replayed,
      lagMs: lag?.lagMs ?? before?.lagMs ?? Infinity,
      lagAt: lag?.lagAt ?? before?.lagAt ?? 0,
    };
  }
}

/** An idle connection that can skip the gate, else any idle one, else the least busy. */
export function pickConnection(
  connections: ReplicaConnection[],
  needed: bigint,
  maxLagMs: number | undefined,
  gateEveryRead: boolean,
): ReplicaConnection {
  let best = connections[0]!;
  let bestScore = -Infinity;
  for (const connection of connections) {
    const score = -connection.inFlight * 2 + (!gateEveryRead && connection.proves(needed, maxLagMs) ? 1 : 0);
    if (score > bestScore) {
      best = connection;
      bestScore = score;
    }
  }
  return best;
}

/** `max` connections to one replica, each a one-connection pool whose closes are counted. */
export async function openReplicaConnections(
  conn: ServerConnection,
  max: number,
  options: PoolOptions,
): Promise<ReplicaConnection[]> {
  const { openPool } = await import('./driver.js');
  return Promise.all(
    Array.from({ length: Math.max(1, max) }, async () => {
      const connection = new ReplicaConnection();
      connection.sql = await openPool(conn, { ...options, max: 1, onclose: () => connection.noteClosed() });
      return connection;
    }),
  );
}
