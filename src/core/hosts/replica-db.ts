/**
 * Reads of `hosts list` and `snapshot list --replica`: on a streaming replica (the URL given,
 * else DATABASE_REPLICA_URL), falling back to the primary when the replica is down, hung or
 * not a standby. The primary is connected only when it has to answer.
 */
import { connectPool } from '../../db/pool.js';
import { openReplicaPools, resolveReplicas } from '../../db/replica-config.js';
import { ReplicaRouter } from '../../db/replicas.js';
import { UsageError } from '../../errors.js';
import { type ReplicaStores, replicaStores } from '../../store/replica-reads.js';
import type { CoreOptions } from '../options.js';

export interface ReplicaReadOptions extends CoreOptions {
  /** --replica: a URL (or comma list), or true for DATABASE_REPLICA_URL. */
  replica?: string | true | undefined;
}

/** How long a replica may take before the primary answers instead. */
const REPLICA_TIMEOUT_MS = 2000;

/** Runs `fn` with read-only stores on a replica (falling back to the primary), then closes. */
export async function withReplicaReads<T>(
  options: ReplicaReadOptions & { replica: string | true },
  fn: (stores: ReplicaStores) => Promise<T>,
): Promise<T> {
  const given = options.replica === true ? options.env.DATABASE_REPLICA_URL : options.replica;
  if (given === undefined) {
    throw new UsageError('--replica needs a URL, or DATABASE_REPLICA_URL set', {
      hint: 'Give --replica postgres://user@replica-host/db, or export DATABASE_REPLICA_URL.',
    });
  }
  const conns = resolveReplicas(given, options.env, options.replica === true ? 'DATABASE_REPLICA_URL' : '--replica');
  const target = options.target; // resolved (and checked) before any connection
  const pools = await openReplicaPools(conns, { timeoutMs: REPLICA_TIMEOUT_MS, max: 1 });
  const primary = {
    open: async () => (await connectPool(target, { max: 1, log: options.log })).sql,
  };
  const router = new ReplicaRouter(primary, pools, { timeoutMs: REPLICA_TIMEOUT_MS });
  try {
    const result = await fn(replicaStores((call) => router.read(call)));
    const stats = router.stats();
    const reasons = Object.entries(stats.fallbacks)
      .filter(([, n]) => n > 0)
      .map(([reason]) => reason);
    if (stats.primaryReads > 0)
      options.log?.(
        `The replica (${pools.map((p) => p.name).join(', ')}) could not answer (${reasons.join(', ')}): read from the primary.`,
      );
    return result;
  } finally {
    await router.close();
  }
}
