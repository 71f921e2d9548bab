/**
 * `pgstore health`: runs every check in HEALTH_CHECKS against the target within a deadline.
 * An unreachable server, a wrong password or a missing database is a critical result, not
 * an exception.
 */
import { existsSync } from 'node:fs';
import type { ServerConnection } from '../../db/config.js';
import { chosenBackupDir, defaultBackupDir, resolveBackupDir } from '../../db/home.js';
import { connectPool, type Db } from '../../db/pool.js';
import { serverIdentity, type ServerIdentity } from '../../store/admin/index.js';
import { isPgstoreError } from '../../errors.js';
import { HEALTH_CHECKS } from './checks.js';
import { readSetFiles, type SetFiles } from '../migrate/index.js';
import { type CheckResult, type HealthCheck, type HealthReport, type Limits, worst } from './types.js';
import type { CoreOptions } from '../options.js';

export interface HealthOptions extends CoreOptions {
  /** Seconds for the whole run, connecting included. */
  timeoutSeconds?: number;
  /** Threshold overrides by key (see healthThresholds()). */
  limits?: Limits;
  /** Checks run after the built-in ones (later features add theirs here). */
  extraChecks?: HealthCheck[];
  now?: Date;
  /** Migrations the `migrations` check compares against (default: pgstore's own). */
  migrationsDir?: string | undefined;
  /** Replicas that must be connected to the target (critical when fewer are). */
  expectedReplicas?: number | undefined;
  /**
   * PGSTORE_BACKUP_DIR is the default folder, found rather than named: a database with no
   * backup in it at all is not graded (its backups were never set up there).
   */
  backupDirIsDefault?: boolean;
}

/**
 * The backup folder health should look at: --backup-dir, PGSTORE_BACKUP_DIR, or the default when
 * it exists (undefined: the last_backup check does not run); `chosen` when the user named it.
 * Here, not in core/backup: loading the backup feature for this was a tenth of `health`'s start-up.
 */
export function healthBackupDir(
  dir: string | undefined,
  env: Record<string, string | undefined>,
): { dir: string; chosen: boolean } | undefined {
  if (chosenBackupDir(dir, env)) return { dir: resolveBackupDir(dir, env), chosen: true };
  const fallback = defaultBackupDir(env);
  return existsSync(fallback) ? { dir: fallback, chosen: false } : undefined;
}

class Timeout extends Error {}

function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new Timeout());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout()), remaining);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function message(error: unknown): string {
  return isPgstoreError(error) ? error.message : ((error as Error)?.message ?? String(error));
}

/** Runs the health checks and returns the report (never throws for an unhealthy server). */
export async function runHealth(options: HealthOptions): Promise<HealthReport> {
  const started = performance.now();
  const timeoutSeconds = options.timeoutSeconds ?? 10;
  const deadline = Date.now() + timeoutSeconds * 1000;
  const target = options.target;
  const finish = (checks: CheckResult[]): HealthReport => ({
    status: worst(checks.map((c) => c.status)),
    checks,
    durationMs: Math.round(performance.now() - started),
  });

  let sql: Db;
  let connectMs: number;
  let conn: ServerConnection;
  try {
    const connectStart = performance.now();
    ({ sql, conn } = await withDeadline(
      // Never starts the embedded server: a monitor must see it down.
      connectPool(target, {
        connectTimeoutSeconds: Math.max(1, Math.ceil(timeoutSeconds)),
        max: 1,
        log: options.log,
        start: false,
      }),
      deadline,
    ));
    connectMs = performance.now() - connectStart;
  } catch (error) {
    const text = error instanceof Timeout ? `no answer within ${timeoutSeconds} s` : message(error);
    return finish([{ name: 'connection', status: 'critical', value: null, unit: null, message: text }]);
  }

  let identity: Promise<ServerIdentity> | undefined;
  const ctx = {
    sql,
    conn,
    embedded: target.kind === 'embedded' ? target : undefined,
    limits: options.limits ?? {},
    connectMs,
    env: options.env,
    now: options.now ?? new Date(),
    migrationsDir: options.migrationsDir,
    // Read after the checks' statements have gone out (the driver writes them from an immediate
    // queued before this one), while the server runs them: ~2-3 ms of CPU that sat between the
    // connection and that one round trip.
    migrationFiles: () =>
      new Promise<SetFiles>((resolve, reject) =>
        setImmediate(() => {
          try {
            resolve(readSetFiles({ env: options.env, migrationsDir: options.migrationsDir }));
          } catch (error) {
            reject(error);
          }
        }),
      ),
    expectedReplicas: options.expectedReplicas,
    backupDirIsDefault: options.backupDirIsDefault ?? false,
    identity: () => (identity ??= serverIdentity(sql)),
  };
  const checks: CheckResult[] = [];
  try {
    // All at once: their statements go out together on the one connection (postgres.js
    // pipelines them), so the checks cost about one round trip, not one each. Results keep
    // the checks' order.
    const all = [...HEALTH_CHECKS, ...(options.extraChecks ?? [])];
    const settled = await Promise.allSettled(all.map((check) => withDeadline(check.run(ctx), deadline)));
    for (const [i, outcome] of settled.entries()) {
      const check = all[i]!;
      if (outcome.status === 'fulfilled') {
        if (outcome.value) checks.push(...(Array.isArray(outcome.value) ? outcome.value : [outcome.value]));
        continue;
      }
      const timedOut = outcome.reason instanceof Timeout;
      checks.push({
        name: check.name,
        status: timedOut ? 'critical' : 'unknown',
        value: null,
        unit: null,
        message: timedOut ? `no answer within ${timeoutSeconds} s` : `check failed: ${message(outcome.reason)}`,
      });
      if (timedOut) break; // the deadline has passed: the later checks timed out too, one line says it
    }
  } finally {
    await sql.end({ timeout: 0 }).catch(() => undefined);
  }
  return finish(checks);
}
