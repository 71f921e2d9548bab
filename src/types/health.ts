/**
 * What `pgstore health` reports: core/health produces it, ui/health-view.ts draws it.
 */

export type HealthStatus = 'ok' | 'warning' | 'critical' | 'unknown';

export interface CheckResult {
  name: string;
  status: HealthStatus;
  value: number | string | null;
  unit: string | null;
  message: string;
}

export interface HealthReport {
  status: HealthStatus;
  checks: CheckResult[];
  durationMs: number;
}
