/**
 * Replication health from both ends. On a server with replicas: each expected replica connected
 * (`--expected-replicas`), each one's replay lag in seconds and bytes. On a standby: its replay
 * lag (received WAL not yet replayed: an idle primary is no lag) and its WAL receiver. On both:
 * replication slots that are inactive or keep too much WAL, and a failing WAL archiver.
 */
import { formatBytes, plural } from '../../util/format.js';
import * as stats from '../../store/admin/index.js';
import {
  type CheckContext,
  type CheckResult,
  type HealthCheck,
  type HealthStatus,
  type Threshold,
  grade,
  worst,
} from './types.js';
import { THRESHOLDS as T } from './thresholds.js';

const MB = 1024 * 1024;
const limit = (ctx: CheckContext, t: Threshold) => ctx.limits[t.key] ?? t;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const seconds = (s: number) => (s < 60 ? `${round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);
const since = (d: Date | null, now: Date) =>
  d ? `${seconds(Math.max(0, (now.getTime() - d.getTime()) / 1000))} ago` : 'never';

/** Replica names made unique (two standbys may both call themselves walreceiver). */
function uniqueNames(replicas: stats.ReplicaStatus[]): string[] {
  const seen = new Map<string, number>();
  return replicas.map((r) => {
    const n = (seen.get(r.name) ?? 0) + 1;
    seen.set(r.name, n);
    return n === 1 ? r.name : `${r.name}#${n}`;
  });
}

function lagResults(
  ctx: CheckContext,
  suffix: string,
  who: string,
  lagSeconds: number | null,
  lagBytes: number | null,
  note = '',
): CheckResult[] {
  return [
    {
      name: `replication_lag${suffix}`,
      status: lagSeconds === null ? 'unknown' : grade(lagSeconds, limit(ctx, T.replicationLag), 'above'),
      value: lagSeconds === null ? null : round(lagSeconds),
      unit: 's',
      message:
        lagSeconds === null
          ? `${who}: replay lag not known yet${note}`
          : `${who} replays ${seconds(lagSeconds)} behind${note}`,
    },
    {
      name: `replication_lag_bytes${suffix}`,
      status: lagBytes === null ? 'unknown' : grade(lagBytes / MB, limit(ctx, T.replicationLagMb), 'above'),
      value: lagBytes,
      unit: 'bytes',
      message:
        lagBytes === null
          ? `${who}: no WAL position reported yet`
          : `${who} has ${formatBytes(lagBytes)} of WAL not replayed${note}`,
    },
  ];
}

export const REPLICATION_CHECKS: HealthCheck[] = [
  {
    // Replicas streaming from this server (a primary, or a standby with cascaded replicas).
    name: 'replicas',
    thresholds: [T.replicationLag, T.replicationLagMb],
    async run(ctx) {
      const replicas = await stats.replicaStatuses(ctx.sql);
      const expected = ctx.expectedReplicas;
      if (!replicas.length && expected === undefined) return undefined;
      const names = uniqueNames(replicas);
      const list = replicas
        .map((r, i) => `${names[i]} ${r.state}${r.syncState === 'async' ? '' : ` (${r.syncState})`}`)
        .join(', ');
      const missing = expected !== undefined && replicas.length < expected;
      const results: CheckResult[] = [
        {
          name: 'replicas',
          status: missing ? 'critical' : 'ok',
          value: replicas.length,
          unit: 'replicas',
          message: `${replicas.length}${expected === undefined ? '' : ` of ${expected} expected`} ${(expected ?? replicas.length) === 1 ? 'replica' : 'replicas'} connected${list ? `: ${list}` : ''}`,
        },
      ];
      replicas.forEach((r, i) =>
        results.push(
          ...lagResults(
            ctx,
            `:${names[i]}`,
            names[i]!,
            r.lagSeconds,
            r.lagBytes,
            r.state === 'streaming' ? '' : ` (${r.state})`,
          ),
        ),
      );
      return results;
    },
  },
  {
    name: 'standby',
    thresholds: [T.replicationLag, T.replicationLagMb],
    async run(ctx) {
      // Sent with everything else before the role is known (one round trip); unused on a primary.
      const asked = Promise.all([stats.standbyReplay(ctx.sql), stats.walReceiverStatus(ctx.sql)]);
      asked.catch(() => undefined);
      if (!(await ctx.identity()).inRecovery) return undefined;
      const [replay, receiver] = await asked;
      const paused = replay.replayPaused ? ' (replay paused)' : '';
      const results = lagResults(ctx, '', 'this standby', replay.lagSeconds, replay.lagBytes, paused);
      // Streaming is expected when primary_conninfo is set; without it WAL comes from the archive.
      const streaming = receiver.running && (receiver.status === null || receiver.status === 'streaming');
      const status: HealthStatus = streaming || receiver.configured === false ? 'ok' : 'critical';
      const message = receiver.running
        ? `WAL receiver ${receiver.status ?? 'running'}${receiver.sender ? ` from ${receiver.sender}` : ''}${receiver.lastMessageSeconds === null ? '' : `, last message ${seconds(receiver.lastMessageSeconds)} ago`}`
        : receiver.configured === false
          ? 'no WAL receiver (primary_conninfo is empty: WAL comes from the archive)'
          : "no WAL receiver running: not connected to the primary (see the standby's log)";
      results.push({
        name: 'wal_receiver',
        status,
        value: receiver.status ?? (receiver.running ? 'running' : 'stopped'),
        unit: null,
        message,
      });
      return results;
    },
  },
  {
    name: 'replication_slots',
    thresholds: [T.slotWalMb],
    async run(ctx) {
      const slots = await stats.slotStatuses(ctx.sql);
      return slots.map((s): CheckResult => {
        const retained = s.retainedBytes === null ? 'no WAL reserved' : `keeps ${formatBytes(s.retainedBytes)} of WAL`;
        const statuses: HealthStatus[] = [
          s.active ? 'ok' : 'warning',
          s.retainedBytes === null ? 'ok' : grade(s.retainedBytes / MB, limit(ctx, T.slotWalMb), 'above'),
          // lost: the WAL it needed is gone, its consumer can never resume; unreserved: about to be.
          s.walStatus === 'lost' ? 'critical' : s.walStatus === 'unreserved' ? 'warning' : 'ok',
        ];
        const walStatus = s.walStatus === 'lost' || s.walStatus === 'unreserved' ? `, WAL ${s.walStatus}` : '';
        return {
          name: `slot:${s.name}`,
          status: worst(statuses),
          value: s.retainedBytes,
          unit: 'bytes',
          message: `${s.type} slot ${s.name} ${s.active ? 'active' : 'inactive (nothing consumes it, WAL piles up)'}, ${retained}${walStatus}`,
        };
      });
    },
  },
  {
    // Alerts on the newest attempt failing, not on failed_count (it never goes down).
    name: 'archiver',
    async run(ctx) {
      const [a, { inRecovery }] = await Promise.all([stats.archiverStatus(ctx.sql), ctx.identity()]);
      // A standby archives only with archive_mode = always.
      if (a.mode === 'off' || (inRecovery && a.mode !== 'always')) return undefined;
      const ready = a.readySegments === null ? '' : `; ${plural(a.readySegments, 'segment')} waiting`;
      if (a.failing) {
        return {
          name: 'archiver',
          status: 'critical',
          value: a.readySegments,
          unit: 'segments',
          message: `archive_command is failing: ${a.lastFailedWal} failed ${since(a.lastFailedTime, ctx.now)}, last success ${a.lastArchivedWal ? `${a.lastArchivedWal} ${since(a.lastArchivedTime, ctx.now)}` : 'never'}${ready}`,
        };
      }
      return {
        name: 'archiver',
        status: 'ok',
        value: a.readySegments,
        unit: 'segments',
        message: a.lastArchivedWal
          ? `archived ${plural(a.archivedCount, 'segment')}, last ${a.lastArchivedWal} ${since(a.lastArchivedTime, ctx.now)}${ready}`
          : `archiving on, nothing archived yet${ready}`,
      };
    },
  },
];
