/**
 * Prometheus textfile metrics for a backup run (node_exporter's textfile collector), written
 * atomically so the collector never reads half a file.
 */
import { writeFileAtomic } from '../../util/atomic-file.js';

export interface BackupMetrics {
  database: string;
  /** Whether this run succeeded. */
  success: boolean;
  /** How long this run took (successful or not). */
  durationSeconds: number;
  /** Size of the newest successful backup (null: none yet). */
  sizeBytes: number | null;
  /** When the newest successful backup finished (null: none yet). */
  lastSuccessAt: Date | null;
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The metrics as Prometheus text exposition format. */
export function metricsText(m: BackupMetrics): string {
  const labels = `{database="${escapeLabel(m.database)}"}`;
  const metric = (name: string, help: string, value: number) =>
    `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name}${labels} ${Number.isInteger(value) ? value : value.toFixed(3)}\n`;
  return [
    metric(
      'pgstore_backup_last_success_timestamp_seconds',
      'Unix time the newest successful pgstore backup finished (0: none).',
      m.lastSuccessAt ? Math.round(m.lastSuccessAt.getTime() / 1000) : 0,
    ),
    metric('pgstore_backup_duration_seconds', 'Duration of the last backup run, successful or not.', m.durationSeconds),
    metric('pgstore_backup_size_bytes', 'Size of the newest successful backup.', m.sizeBytes ?? 0),
    metric('pgstore_backup_success', '1 if the last backup run succeeded, 0 if it failed.', m.success ? 1 : 0),
  ].join('');
}

/** Writes the metrics file atomically; mode 0644 even under a umask of 077 (the collector runs as another user). */
export function writeBackupMetrics(path: string, m: BackupMetrics): void {
  // The mode is set on the temporary file before the rename (never chmod by path afterwards:
  // a symlink raced into place would make the file it points at world-readable).
  writeFileAtomic(path, metricsText(m), 0o644, { exactMode: true });
}
