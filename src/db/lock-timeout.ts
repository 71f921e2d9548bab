/**
 * How long the CLI's sessions wait for a table lock (PGSTORE_LOCK_TIMEOUT, pgstore.toml
 * `[locks] timeout`; every command but `migrate`, which has its own --lock-timeout). The CLI
 * sets it on the target it resolves (cli.ts); the library's connect() never does: an
 * application chooses its own lock_timeout.
 */
import { UsageError } from '../errors.js';
import type { ConnectionTarget } from './config.js';

/**
 * A minute: far longer than any lock a healthy application holds (a row update, a short
 * transaction), far shorter than "forever" for a cron job stuck behind a long ALTER TABLE or an
 * idle session that took an exclusive lock and went to lunch.
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
/** The longest accepted: a day (PostgreSQL's own limit is about 24.8 days). */
const MAX_LOCK_TIMEOUT_MS = 86_400_000;
const UNITS: Record<string, number> = { ms: 1, s: 1000, min: 60_000, m: 60_000, h: 3_600_000 };

/**
 * A lock timeout as PostgreSQL's lock_timeout takes it: `500ms`, `30s`, `2min` (or `2m`), `1h`,
 * or a bare number of milliseconds; 0 waits forever. `name` says where the value came from.
 */
export function parseLockTimeout(raw: string, name: string): number {
  const m = /^(\d{1,9}(?:\.\d{1,3})?)\s*(ms|s|min|m|h)?$/.exec(raw.trim());
  const ms = m ? Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!) : Number.NaN;
  const hint = 'A duration such as 500ms, 30s or 2min (a bare number is milliseconds); 0 waits forever.';
  if (!m) throw new UsageError(`${name} must be a duration such as 30s or 2min, got '${raw}'`, { hint });
  if (ms > MAX_LOCK_TIMEOUT_MS) throw new UsageError(`${name} must be at most a day (24h), got '${raw}'`, { hint });
  return ms;
}

/** PGSTORE_LOCK_TIMEOUT of `env` in milliseconds, else the default. */
export function lockTimeoutFromEnv(env: Record<string, string | undefined>): number {
  const raw = env.PGSTORE_LOCK_TIMEOUT;
  return raw === undefined || raw.trim() === ''
    ? DEFAULT_LOCK_TIMEOUT_MS
    : parseLockTimeout(raw, 'PGSTORE_LOCK_TIMEOUT');
}

/** `target` with the CLI's lock timeout for its sessions (driver.ts applies it unless the URL sets one). */
export function withLockTimeout<T extends ConnectionTarget>(target: T, ms: number): T {
  return { ...target, lockTimeoutMs: ms };
}

/** True when the URL's `options` set lock_timeout themselves (`options=-c lock_timeout=5s`): those win. */
export function urlSetsLockTimeout(options: string | undefined): boolean {
  return /(^|\s)(-c\s*|--)lock[_-]timeout\s*=/.test(options ?? '');
}

/** `1500 ms`, `30 s`, `2 min`: a lock timeout for messages. */
export function describeLockTimeout(ms: number): string {
  if (ms === 0) return '0 (wait forever)';
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
