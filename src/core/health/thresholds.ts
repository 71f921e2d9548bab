/**
 * Default warning/critical thresholds of the health checks. Kept apart from the checks so the
 * CLI can build its flags without loading them.
 */
import type { Threshold } from './types.js';

export const THRESHOLDS = {
  latency: {
    key: 'latency',
    description: 'round-trip milliseconds',
    unit: 'ms',
    warning: 100,
    critical: 1000,
    direction: 'above',
  },
  replicationLag: {
    key: 'replication-lag',
    description: 'replica lag in seconds',
    unit: 's',
    warning: 60,
    critical: 300,
    direction: 'above',
  },
  replicationLagMb: {
    key: 'replication-lag-mb',
    description: 'megabytes of WAL a replica has not replayed',
    unit: 'MB',
    warning: 64,
    critical: 1024,
    direction: 'above',
  },
  slotWalMb: {
    key: 'slot-wal-mb',
    description: 'megabytes of WAL a replication slot keeps',
    unit: 'MB',
    warning: 1024,
    critical: 10240,
    direction: 'above',
  },
  connections: {
    key: 'connections',
    description: 'percent of max_connections in use',
    unit: '%',
    warning: 80,
    critical: 95,
    direction: 'above',
  },
  longTransaction: {
    key: 'long-transaction',
    description: 'age of the oldest open transaction in seconds',
    unit: 's',
    warning: 300,
    critical: 3600,
    direction: 'above',
  },
  idleTransaction: {
    key: 'idle-transaction',
    description: 'seconds a session may sit idle in a transaction',
    unit: 's',
    warning: 300,
    critical: 1800,
    direction: 'above',
  },
  wraparound: {
    key: 'wraparound',
    description: 'transaction ID age as percent of 2^31',
    unit: '%',
    warning: 50,
    critical: 75,
    direction: 'above',
  },
  diskFree: {
    key: 'disk-free',
    description: 'percent of disk free under the embedded data folder',
    unit: '%',
    warning: 10,
    critical: 5,
    direction: 'below',
  },
  backupAge: {
    key: 'backup-age',
    description: 'hours since the newest backup finished',
    unit: 'h',
    warning: 26,
    critical: 50,
    direction: 'above',
  },
} as const satisfies Record<string, Threshold>;

/** Every threshold, for building --<key>-warning / --<key>-critical flags. */
export function healthThresholds(): Threshold[] {
  return Object.values(THRESHOLDS);
}
