/**
 * The list of health checks. Adding a check is adding one entry to HEALTH_CHECKS.
 */
import { formatBytes, plural } from '../../util/format.js';
import { findDrift, setHistories } from '../migrate/index.js';
import * as stats from '../../store/admin/index.js';
import { type CheckContext, type HealthCheck, type Threshold, grade, worst } from './types.js';
import { THRESHOLDS as T } from './thresholds.js';
import { REPLICATION_CHECKS } from './replication.js';

/** End-of-life dates of PostgreSQL major versions (postgresql.org/support/versioning). */
export const END_OF_LIFE: Record<number, string> = {
  11: '2023-11-09',
  12: '2024-11-21',
  13: '2025-11-13',
  14: '2026-11-12',
  15: '2027-11-11',
  16: '2028-11-09',
  17: '2029-11-08',
  18: '2030-11-14',
};

const limit = (ctx: CheckContext, t: Threshold) => ctx.limits[t.key] ?? t;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** 1234567 → "1,234,567" (toLocaleString would load ICU data: 14 ms of start-up). */
export function groupThousands(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Human duration: 90 → "1m 30s". */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export const HEALTH_CHECKS: HealthCheck[] = [
  {
    name: 'connection',
    thresholds: [T.latency],
    async run(ctx) {
      const rtt = await stats.roundTripMs(ctx.sql);
      return {
        name: 'connection',
        status: grade(rtt, limit(ctx, T.latency), 'above'),
        value: round(rtt, 2),
        unit: 'ms',
        message: `connected to ${ctx.conn.host}:${ctx.conn.port} as ${ctx.conn.user} in ${round(ctx.connectMs)} ms; round trip ${round(rtt, 2)} ms`,
      };
    },
  },
  {
    name: 'server_version',
    async run(ctx) {
      const id = await ctx.identity();
      const major = Math.floor(id.versionNum / 10000);
      const eol = END_OF_LIFE[major];
      const expired = eol !== undefined && new Date(eol) < ctx.now;
      return {
        name: 'server_version',
        status: expired ? 'warning' : 'ok',
        value: id.version,
        unit: null,
        message: expired
          ? `PostgreSQL ${id.version} is past end of life (${eol}); plan an upgrade`
          : `PostgreSQL ${id.version}`,
      };
    },
  },
  {
    name: 'database',
    async run(ctx) {
      const id = await ctx.identity();
      return {
        name: 'database',
        status: 'ok',
        value: id.sizeBytes,
        unit: 'bytes',
        message: `${id.database}, ${formatBytes(id.sizeBytes)}`,
      };
    },
  },
  {
    name: 'role',
    async run(ctx) {
      const { inRecovery } = await ctx.identity();
      return {
        name: 'role',
        status: 'ok',
        value: inRecovery ? 'replica' : 'primary',
        unit: null,
        message: inRecovery ? 'replica (in recovery)' : 'primary',
      };
    },
  },
  // Replicas and their lag, this standby's replay and WAL receiver, slots, the WAL archiver.
  ...REPLICATION_CHECKS,
  {
    name: 'connections',
    thresholds: [T.connections],
    async run(ctx) {
      const use = await stats.connectionUsage(ctx.sql);
      const pct = (use.used / use.max) * 100;
      return {
        name: 'connections',
        status: grade(pct, limit(ctx, T.connections), 'above'),
        value: round(pct),
        unit: '%',
        message: `${use.used} of ${use.max} connections in use (${use.reserved} reserved for superusers)`,
      };
    },
  },
  {
    name: 'transactions',
    thresholds: [T.longTransaction, T.idleTransaction],
    async run(ctx) {
      const ages = await stats.transactionAges(ctx.sql);
      return [
        {
          name: 'oldest_transaction',
          status: grade(ages.oldestSeconds, limit(ctx, T.longTransaction), 'above'),
          value: round(ages.oldestSeconds),
          unit: 's',
          message:
            ages.oldestSeconds > 0
              ? `oldest open transaction: ${formatSeconds(ages.oldestSeconds)}`
              : 'no open transactions',
        },
        {
          name: 'idle_in_transaction',
          status: grade(ages.oldestIdleSeconds, limit(ctx, T.idleTransaction), 'above'),
          value: ages.idleInTransaction,
          unit: 'sessions',
          message: ages.idleInTransaction
            ? `${plural(ages.idleInTransaction, 'session')} idle in transaction, longest ${formatSeconds(ages.oldestIdleSeconds)}`
            : 'no sessions idle in transaction',
        },
      ];
    },
  },
  {
    name: 'wraparound',
    thresholds: [T.wraparound],
    async run(ctx) {
      const { age, database } = await stats.wraparoundAge(ctx.sql);
      const pct = (age / 2 ** 31) * 100;
      return {
        name: 'wraparound',
        status: grade(pct, limit(ctx, T.wraparound), 'above'),
        value: round(pct, 2),
        unit: '%',
        message: `oldest transaction ID age ${groupThousands(age)} (${round(pct, 2)}% of 2^31, database ${database})`,
      };
    },
  },
  {
    name: 'migrations',
    async run(ctx) {
      // Each set against its own history: pgstore's, and the app's (compared when its folder is here).
      const histories = await setHistories(ctx.sql, ctx.conn, {
        env: ctx.env,
        migrationsDir: ctx.migrationsDir,
        files: ctx.migrationFiles?.(),
      });
      let pendingTotal = 0;
      let warn = false;
      const parts = histories.map(({ set, applied, pending }) => {
        // Without its folder here, the app's set has nothing to compare with: its rows are only counted.
        if (!set.present) return `${set.name}: ${applied.length} applied (no folder ${set.dir} to compare with)`;
        const drift = findDrift(set.files, applied);
        pendingTotal += pending;
        if (pending || drift.length) warn = true;
        const problems = [
          pending ? `${pending} pending` : '',
          drift.length ? `${drift.length} edited or missing (${drift.map((d) => d.filename).join(', ')})` : '',
        ].filter(Boolean);
        return `${set.name}: ${applied.length} applied, ${problems.length ? problems.join(', ') : 'none pending'}`;
      });
      return {
        name: 'migrations',
        status: warn ? 'warning' : 'ok',
        value: pendingTotal,
        unit: 'pending',
        message: parts.join('; '),
      };
    },
  },
  {
    name: 'disk',
    thresholds: [T.diskFree],
    async run(ctx) {
      if (!ctx.embedded) return undefined;
      // Loaded here, not at the top: a server named by a URL never needs it (~2 ms of start-up).
      const { embeddedDiskUsage } = await import('../../db/embedded.js');
      const disk = embeddedDiskUsage(ctx.embedded);
      const pct = (disk.freeBytes / disk.totalBytes) * 100;
      return {
        name: 'disk',
        status: grade(pct, limit(ctx, T.diskFree), 'below'),
        value: round(pct),
        unit: '%',
        message: `${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes)} under ${ctx.embedded.home}`,
      };
    },
  },
  {
    // Runs when a backup folder is known: `health --backup-dir`, PGSTORE_BACKUP_DIR, or the default
    // one existing and holding a backup of this database.
    name: 'last_backup',
    thresholds: [T.backupAge],
    async run(ctx) {
      const dir = ctx.env.PGSTORE_BACKUP_DIR;
      if (!dir) return undefined;
      const { scanBackups } = await import('../backup/index.js');
      const { backups, damaged } = scanBackups(dir, ctx.conn.database);
      // pgBackRest's backups of the whole cluster count too (read from `pgbackrest info`).
      const physical = await newestPhysicalBackup(dir, ctx.env);
      const newest = backups[0];
      // Damaged backups newer than the newest intact one: `restore latest` refuses them, so a
      // monitor must not say ok.
      const newer = damaged.filter((d) => !newest || d.startedAt >= newest.manifest.startedAt);
      const damage = newer.length
        ? `; newer backup ${newer[0]!.id} is damaged (${newer[0]!.problem})${newer.length > 1 ? ` and ${newer.length - 1} more` : ''}`
        : '';
      if (physical.backup && (!newest || physical.backup.finishedAt > newest.manifest.finishedAt)) {
        const b = physical.backup;
        const hours = (ctx.now.getTime() - Date.parse(b.finishedAt)) / 3_600_000;
        return {
          name: 'last_backup',
          status: grade(hours, limit(ctx, T.backupAge), 'above'),
          value: round(hours),
          unit: 'h',
          message: `newest backup ${b.id} (${b.engine} ${b.type}) finished ${formatSeconds(Math.max(0, hours * 3600))} ago (${formatBytes(b.sizeBytes)})`,
        };
      }
      if (!newest) {
        // The default folder holds other databases' backups only: this one's were never set up there.
        if (ctx.backupDirIsDefault && !newer.length && !physical.backup && !physical.problem) return undefined;
        const why = newer.length
          ? `: ${newer[0]!.id} is damaged (${newer[0]!.problem})`
          : physical.problem
            ? `; ${physical.problem}`
            : '';
        return {
          name: 'last_backup',
          status: 'critical',
          value: null,
          unit: 'h',
          message: `no complete backup of ${ctx.conn.database} in ${dir}${why}`,
        };
      }
      const hours = (ctx.now.getTime() - Date.parse(newest.manifest.finishedAt)) / 3_600_000;
      const verified = newest.manifest.verified ? `, verified (${newest.manifest.verified.method})` : ', not verified';
      const status = grade(hours, limit(ctx, T.backupAge), 'above');
      return {
        name: 'last_backup',
        status: newer.length || physical.problem ? worst([status, 'warning']) : status,
        value: round(hours),
        unit: 'h',
        message: `newest backup ${newest.id} finished ${formatSeconds(Math.max(0, hours * 3600))} ago (${formatBytes(newest.manifest.sizeBytes)}${verified})${damage}${physical.problem ? `; ${physical.problem}` : ''}`,
      };
    },
  },
];

/** The newest pgBackRest backup in the folder, or why it could not be read (never throws). */
async function newestPhysicalBackup(
  dir: string,
  env: Record<string, string | undefined>,
): Promise<{ backup?: import('../backup/pgbackrest/index.js').PhysicalBackup; problem?: string }> {
  const { hasPgbackrest, listPhysicalBackups } = await import('../backup/pgbackrest/index.js');
  const { listBaseBackups } = await import('../backup/basebackup/index.js');
  const newest = (list: Array<import('../backup/pgbackrest/index.js').PhysicalBackup>) =>
    list.sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0];
  const bases = listBaseBackups(dir);
  if (!hasPgbackrest(dir)) return { backup: newest(bases) };
  try {
    return { backup: newest([...(await listPhysicalBackups(dir, env)), ...bases]) };
  } catch (error) {
    return { problem: `pgBackRest backups could not be read: ${(error as Error).message}` };
  }
}
