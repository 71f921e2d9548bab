/**
 * The JSON contract's names (docs/json.md) where the library's own differ: what `--json`
 * prints for snapshots, host events, backups and seeds. The library keeps its names (the hosts
 * types are seed 001's storage contract, manifest.json is an on-disk format); these functions
 * rename at the edge, so the rule holds for every command's output:
 *   an entity's own identifier is `id`, a reference is `<entity>Id`, times `...At` (ISO-8601,
 *   UTC), sizes `...Bytes`, durations `...Ms` or `...Seconds`, a count never shares the name of
 *   a list (`tableCount` beside `tables`).
 */
import type { EventEnvelope, SnapshotMetadata } from '../store/hosts/index.js';
import type { SeedResult } from '../types/seed.js';

/** A snapshot (metadata, or with its content): `snapshotId` becomes `id`. */
export function snapshotJson<T extends { snapshotId: string }>(snapshot: T): Omit<T, 'snapshotId'> & { id: string } {
  const { snapshotId, ...rest } = snapshot;
  return { id: snapshotId, ...rest };
}

/** A diff's end: the snapshot's metadata with `id`, or null for the current entries. */
export function snapshotRefJson<T extends { snapshotId: string } | null>(snapshot: T) {
  return snapshot === null ? null : snapshotJson(snapshot as Exclude<T, null>);
}

/** The snapshots in a list, newest first. */
export function snapshotListJson(list: readonly SnapshotMetadata[]) {
  return list.map(snapshotJson);
}

/**
 * A host event: the envelope's `eventId` is the event's `id`, `aggregateId` the `hostId` it
 * belongs to, `eventVersion` its `version` (what an entry's `version` names).
 */
export function hostEventJson(envelope: EventEnvelope) {
  return {
    id: envelope.eventId,
    hostId: envelope.aggregateId,
    version: envelope.eventVersion,
    createdAt: envelope.createdAt,
    createdBy: envelope.createdBy ?? null,
    event: envelope.event,
  };
}

/** A backup's manifest as printed: each file's `bytes` is its `sizeBytes`. */
export function manifestJson<M extends { files: ReadonlyArray<{ path: string; bytes: number; sha256: string }> }>(
  manifest: M,
) {
  return { ...manifest, files: manifest.files.map((f) => ({ path: f.path, sizeBytes: f.bytes, sha256: f.sha256 })) };
}

/** A physical backup (pgBackRest or base backup): `prior` is the `priorBackupId` it depends on. */
export function physicalBackupJson<P extends { prior: string | null }>(backup: P) {
  const { prior, ...rest } = backup;
  return { ...rest, priorBackupId: prior };
}

/** A take of `backup --engine pgbackrest|basebackup`: its `backup` renamed as above. */
export function physicalTakeJson(result: unknown): unknown {
  const r = result as { backup?: { prior: string | null } };
  return r.backup ? { ...r, backup: physicalBackupJson(r.backup) } : result;
}

/** `seed`'s result with its `kind`; synthetic data's `seconds` is `durationMs` like every other run's. */
export function seedJson(seeded: SeedResult) {
  if (seeded.kind === 'synthetic') {
    const { seconds, ...rest } = seeded.result;
    return { kind: seeded.kind, ...rest, durationMs: Math.round(seconds * 1000) };
  }
  return { kind: seeded.kind, ...seeded.result };
}

/**
 * A time as PostgreSQL prints it (`2026-01-02 03:04:05.123456+00`, any zone) as ISO-8601 in UTC,
 * the fraction's digits kept (a Date would drop microseconds); text in another form unchanged.
 */
export function pgTimeToIso(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d+)? ?(Z|[+-]\d{2}(?::?\d{2})?)(?: [A-Z]{2,5})?$/.exec(
    text.trim(),
  );
  if (!m) return text;
  const zone =
    m[4] === 'Z' ? 'Z' : /^[+-]\d{2}$/.test(m[4]!) ? `${m[4]}:00` : m[4]!.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const date = new Date(`${m[1]}T${m[2]}${zone}`);
  return Number.isNaN(date.getTime()) ? text : `${date.toISOString().slice(0, 19)}${m[3] ?? ''}Z`;
}

/**
 * A physical restore (`restore --engine pgbackrest|basebackup`): `--to-time` is its
 * `recoveryTargetAt`, the times ISO-8601 in UTC, the base backup it started from `backupId`.
 */
export function physicalRestoreJson(result: {
  toTime: string | null;
  lastTransactionAt: string | null;
  base?: string;
}) {
  const { toTime, lastTransactionAt, base, ...rest } = result;
  return {
    ...rest,
    ...(base === undefined ? {} : { backupId: base }),
    recoveryTargetAt: toTime === null ? null : pgTimeToIso(toTime),
    lastTransactionAt: lastTransactionAt === null ? null : pgTimeToIso(lastTransactionAt),
  };
}
