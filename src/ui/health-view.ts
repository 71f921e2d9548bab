/**
 * How a health report looks: a coloured table for people, one Nagios line for monitors.
 */
import type { CheckResult, HealthReport, HealthStatus } from '../types/health.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';
import { formatBytes, plural } from '../util/format.js';

const NAGIOS_CODE: Record<HealthStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

/** The Nagios plugin exit code for a report. */
export function nagiosExitCode(report: HealthReport): number {
  return NAGIOS_CODE[report.status];
}

function colour(out: Output, status: HealthStatus): string {
  const paint = { ok: out.c.green, warning: out.c.yellow, critical: out.c.red, unknown: out.c.magenta }[status];
  return paint(status.toUpperCase());
}

/** A check's value for people: sizes in kB/MB/GB (JSON and Nagios keep the bytes). */
function valueText(check: CheckResult): string {
  if (check.value === null) return '';
  if (check.unit === 'bytes') return typeof check.value === 'number' ? formatBytes(check.value) : String(check.value);
  return check.unit ? `${check.value} ${check.unit}` : String(check.value);
}

/** The report as a table with a summary line. */
export async function healthTable(out: Output, report: HealthReport): Promise<string> {
  const table = await renderTable({
    head: ['CHECK', 'STATUS', 'VALUE', 'MESSAGE'],
    rows: report.checks.map((c) => [c.name, colour(out, c.status), valueText(c), c.message]),
    color: out.options.color,
  });
  return `${table}\n${colour(out, report.status)} in ${report.durationMs} ms`;
}

const perfLabel = (name: string) => (/^[A-Za-z0-9_]+$/.test(name) ? name : `'${name.replace(/'/g, '')}'`);

/** One Nagios plugin line: STATUS - summary | perfdata. */
export function nagiosLine(report: HealthReport): string {
  const bad = report.checks.filter((c) => c.status !== 'ok');
  const summary = bad.length
    ? bad.map((c) => `${c.name}: ${c.message}`).join('; ')
    : `${plural(report.checks.length, 'check')} ok`;
  const perf = report.checks
    .filter((c) => typeof c.value === 'number')
    .map((c) => {
      const unit = c.unit === '%' ? '%' : c.unit === 'ms' ? 'ms' : c.unit === 's' ? 's' : c.unit === 'bytes' ? 'B' : '';
      return `${perfLabel(c.name)}=${c.value}${unit}`;
    })
    .join(' ');
  return `PGSTORE ${report.status.toUpperCase()} - ${summary.replace(/\|/g, '/')}${perf ? ` | ${perf}` : ''}`;
}
