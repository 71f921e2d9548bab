/**
 * The shapes of `pgstore health`: a check is one entry in a list; a report is their results.
 */
import type { ServerConnection, EmbeddedTarget } from '../../db/config.js';
import type { Db } from '../../db/pool.js';
import type { ServerIdentity } from '../../store/admin/index.js';
import type { SetFiles } from '../migrate/index.js';
import type { CheckResult, HealthStatus } from '../../types/health.js';

export type { CheckResult, HealthReport, HealthStatus } from '../../types/health.js';

/** A warning/critical pair for one measured value; `below` means low values are bad. */
export interface Threshold {
  /** Flag stem: --<key>-warning / --<key>-critical. */
  key: string;
  description: string;
  unit: string;
  warning: number;
  critical: number;
  direction: 'above' | 'below';
}

export type Limits = Record<string, { warning: number; critical: number }>;

export interface CheckContext {
  sql: Db;
  conn: ServerConnection;
  /** Set when the target is the embedded server (its disk can be inspected). */
  embedded: EmbeddedTarget | undefined;
  limits: Limits;
  connectMs: number;
  /** Version, database, size and role, read once per run. */
  identity: () => Promise<ServerIdentity>;
  env: Record<string, string | undefined>;
  now: Date;
  /** Where the migrations are (default: pgstore's own). */
  migrationsDir: string | undefined;
  /** The migration files, read once the statements have gone out (rejects with what reading threw). */
  migrationFiles?: () => Promise<SetFiles>;
  /** Replicas that must be connected (`--expected-replicas`); undefined: none required. */
  expectedReplicas?: number | undefined;
  /** The backup folder is the default one, not named (HealthOptions.backupDirIsDefault). */
  backupDirIsDefault?: boolean;
}

export interface HealthCheck {
  name: string;
  thresholds?: Threshold[];
  /** Returns one or more results, or nothing when the check does not apply here. */
  run(ctx: CheckContext): Promise<CheckResult | CheckResult[] | undefined>;
}

/** Grades a value against a threshold pair. */
export function grade(
  value: number,
  limit: { warning: number; critical: number },
  direction: Threshold['direction'],
): HealthStatus {
  const worse = direction === 'above' ? (a: number, b: number) => a >= b : (a: number, b: number) => a <= b;
  if (worse(value, limit.critical)) return 'critical';
  if (worse(value, limit.warning)) return 'warning';
  return 'ok';
}

const ORDER: HealthStatus[] = ['ok', 'unknown', 'warning', 'critical'];

/** The worst of several statuses (critical > warning > unknown > ok). */
export function worst(statuses: HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a), 'ok');
}
