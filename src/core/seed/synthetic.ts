/**
 * `pgstore seed --synthetic`: bulk synthetic data at COPY speed, in one transaction, the same
 * random seed giving the same rows. The hosts projection is rebuilt from the loaded events
 * before the transaction commits.
 */
import { endWorkWhenClientGone } from '../../db/client-gone.js';
import { describeTarget } from '../../db/config.js';
import { withPool } from '../../db/pool.js';
import { PgstoreError, UsageError } from '../../errors.js';
import * as bulk from '../../store/admin/index.js';
import { getEnvironment } from '../../store/admin/index.js';
import { type CoreOptions, guardProduction } from '../options.js';
import { syntheticHosts, syntheticTenants, syntheticUsers } from './synthetic-data.js';
import type { SyntheticResult } from '../../types/seed.js';

export type { SyntheticResult } from '../../types/seed.js';

export interface SyntheticOptions extends CoreOptions {
  users?: number;
  tenants?: number;
  hosts?: number;
  eventsPerHost?: number;
  randomSeed?: string;
  forceProduction?: boolean;
  /**
   * Rows written so far of the total, as loading goes; once every row is sent, `phase` names
   * what the wait is for ('building keys and indexes', 'committing').
   */
  onProgress?: (done: number, total: number, phase?: string) => void;
}

export const SYNTHETIC_DEFAULTS = { users: 1000, tenants: 10, hosts: 1000, eventsPerHost: 5, randomSeed: 'pgstore' };

/** Loads synthetic users, tenants, memberships and host events. */
export async function seedSynthetic(options: SyntheticOptions): Promise<SyntheticResult> {
  const o = { ...SYNTHETIC_DEFAULTS, ...definedOnly(options) };
  if (o.tenants < 1 && o.users > 0)
    throw new UsageError('--tenants must be at least 1 when there are users', {
      hint: 'Every synthetic user joins a tenant.',
    });
  const started = performance.now();
  return withPool(options.target, { max: 1, log: options.log }, async (sql, conn) => {
    guardProduction(
      {
        action: 'load synthetic data',
        target: describeTarget(conn),
        environment: await getEnvironment(sql),
        details: [],
      },
      options.forceProduction,
      false,
    );
    const total = o.tenants + o.users * 2 + o.hosts * o.eventsPerHost;
    let done = 0;
    const tick = (n: number) => {
      done += n;
      options.onProgress?.(done, total);
    };
    const seed = o.randomSeed;
    const rows = await sql.begin(async (tx) => {
      // A stopped seed stops the server's COPY and index builds too (db/client-gone.ts).
      await endWorkWhenClientGone(tx);
      // Rows start moving: a progress rate counts from here (ui/progress-count.ts).
      options.onProgress?.(0, total);
      await bulk.loadTenants(tx, syntheticTenants(seed, o.tenants), tick);
      await bulk.loadUsers(tx, syntheticUsers(seed, o.users), tick);
      const tenantIds = [...syntheticTenants(seed, o.tenants)].map((t) => t.id);
      await bulk.loadMemberships(tx, memberships(seed, o.users, tenantIds), tick);
      const onPhase = (phase: string) => options.onProgress?.(done, total, phase);
      const live =
        o.hosts > 0
          ? await bulk.loadHosts(tx, syntheticHosts(seed, o.hosts, o.eventsPerHost), o.hosts * o.eventsPerHost, tick, {
              onPhase,
            })
          : 0;
      onPhase('committing');
      return {
        'tenancy.tenants': o.tenants,
        'auth.users': o.users,
        'tenancy.memberships': o.users,
        'hosts.host_events': o.hosts * o.eventsPerHost,
        'hosts.hosts': live,
      };
    });
    const seconds = (performance.now() - started) / 1000;
    // Every row written, the hosts projection's included.
    const totalRows = Object.values(rows).reduce((sum, n) => sum + n, 0);
    return {
      randomSeed: seed,
      rows,
      totalRows,
      seconds: round(seconds),
      rowsPerSecond: Math.round(totalRows / seconds),
    };
  }).catch((error: unknown) => {
    if ((error as { code?: string }).code === '42501') {
      throw new PgstoreError(
        'loading synthetic data needs the owner of the tables (it switches triggers off during COPY)',
        {
          hint: 'Connect as the database owner or a superuser, not the application role.',
          cause: error,
        },
      );
    }
    throw error;
  });
}

function* memberships(seed: string, users: number, tenantIds: string[]): Generator<bulk.MembershipRow> {
  let i = 0;
  for (const user of syntheticUsers(seed, users)) {
    yield {
      tenantId: tenantIds[i % tenantIds.length]!,
      userId: user.id,
      username: user.email.split('@')[0]!,
      createdAt: user.createdAt,
    };
    i++;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const round = (n: number) => Math.round(n * 1000) / 1000;
