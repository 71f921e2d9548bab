import { describe, expect, it } from 'vitest';
import type { BackupEntry } from '../../src/core/backup/catalog.js';
import { planRetention } from '../../src/core/backup/catalog.js';
import { backupStamp, checkLabel, parseCompression } from '../../src/core/backup/paths.js';
import { metricsText } from '../../src/core/backup/metrics.js';
import { compressionArgs } from '../../src/tools/pg-dump.js';

const NOW = new Date('2026-01-10T02:00:00Z');
const entry = (id: string, daysAgo: number, verified = false): BackupEntry =>
  ({
    id,
    database: 'app',
    path: `/b/app/${id}`,
    manifest: { startedAt: new Date(NOW.getTime() - daysAgo * 86_400_000).toISOString(), verified: verified ? { method: 'read', at: '' } : null },
  }) as unknown as BackupEntry;

describe('planRetention', () => {
  const backups = [entry('e', 0), entry('d', 1), entry('c', 3, true), entry('b', 8), entry('a', 9, true)];

  it('keeps the newest N, and always the newest verified backup', () => {
    const plan = planRetention(backups, { keepLast: 2 }, NOW);
    expect(plan.keep.map((k) => k.id)).toEqual(['e', 'd', 'c']);
    expect(plan.keep.find((k) => k.id === 'c')!.reasons).toEqual(['newest verified backup']);
    expect(plan.remove.map((r) => r.id)).toEqual(['b', 'a']);
  });

  it('keeps what either rule keeps', () => {
    expect(planRetention(backups, { keepDays: 7 }, NOW).remove.map((r) => r.id)).toEqual(['b', 'a']);
    expect(planRetention(backups, { keepDays: 2, keepLast: 4 }, NOW).remove.map((r) => r.id)).toEqual(['a']);
  });

  it('never removes a protected (just taken) backup, and needs a rule', () => {
    expect(planRetention([entry('x', 30)], { keepDays: 1 }, NOW, ['x']).remove).toEqual([]);
    expect(() => planRetention(backups, {}, NOW)).toThrow(/--keep-last, --keep-days/);
  });
});

describe('backup naming and flags', () => {
  it('stamps sort like time and are file-name safe', () => {
    expect(backupStamp(new Date('2026-01-02T03:04:05.006Z'))).toBe('20260102T030405.006Z');
    expect(checkLabel('nightly-1.a')).toBe('nightly-1.a');
    for (const bad of ['../x', '.hidden', 'a/b', 'x'.repeat(65), '']) expect(() => checkLabel(bad)).toThrow(/--label/);
  });

  it('parses --compress and maps it to pg_dump flags by version', () => {
    expect(parseCompression('gzip:1')).toEqual({ method: 'gzip', level: 1 });
    expect(parseCompression('0')).toEqual({ method: 'none' });
    expect(parseCompression('zstd')).toEqual({ method: 'zstd', level: undefined });
    expect(() => parseCompression('gzip:10')).toThrow(/1-9/);
    expect(() => parseCompression('brotli')).toThrow(/METHOD/);
    expect(compressionArgs({ method: 'gzip', level: 1 }, 15)).toEqual(['--compress=1']);
    expect(compressionArgs({ method: 'zstd', level: 3 }, 16)).toEqual(['--compress=zstd:3']);
    expect(() => compressionArgs({ method: 'lz4' }, 15)).toThrow(/pg_dump 16 or newer/);
  });

  it('writes the four Prometheus metrics with escaped labels', () => {
    const text = metricsText({ database: 'a"b', success: false, durationSeconds: 1.5, sizeBytes: null, lastSuccessAt: null });
    expect(text).toContain('pgstore_backup_success{database="a\\"b"} 0\n');
    expect(text).toContain('pgstore_backup_duration_seconds{database="a\\"b"} 1.500\n');
    expect(text).toContain('pgstore_backup_last_success_timestamp_seconds{database="a\\"b"} 0\n');
    expect(text).toContain('pgstore_backup_size_bytes{database="a\\"b"} 0\n');
  });
});
