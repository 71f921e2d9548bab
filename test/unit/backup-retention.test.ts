import { describe, expect, it } from 'vitest';
import type { BackupEntry } from '../../src/core/backup/catalog.js';
import { planRetention } from '../../src/core/backup/retention.js';
import { backupStamp, checkLabel, parseCompression } from '../../src/core/backup/paths.js';
import { metricsText } from '../../src/core/backup/metrics.js';
import { compressionArgs } from '../../src/tools/pg-dump.js';

const NOW = new Date('2026-01-10T02:00:00Z');
const entry = (id: string, daysAgo: number, verified = false): BackupEntry =>
  ({
    id,
    database: 'app',
    path: `/b/app/${id}`,
    manifest: {
      startedAt: new Date(NOW.getTime() - daysAgo * 86_400_000).toISOString(),
      verified: verified ? { method: 'read', at: '' } : null,
    },
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
    expect(() => planRetention(backups, {}, NOW)).toThrow(/retention needs a rule/);
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
    const text = metricsText({
      database: 'a"b',
      success: false,
      durationSeconds: 1.5,
      sizeBytes: null,
      lastSuccessAt: null,
    });
    expect(text).toContain('pgstore_backup_success{database="a\\"b"} 0\n');
    expect(text).toContain('pgstore_backup_duration_seconds{database="a\\"b"} 1.500\n');
    expect(text).toContain('pgstore_backup_last_success_timestamp_seconds{database="a\\"b"} 0\n');
    expect(text).toContain('pgstore_backup_size_bytes{database="a\\"b"} 0\n');
  });
});

describe('calendar retention (grandfather-father-son)', () => {
  const at = (iso: string, id = iso, verified = false): BackupEntry =>
    ({
      id,
      database: 'app',
      path: `/b/app/${id}`,
      manifest: { startedAt: new Date(iso).toISOString(), verified: verified ? { method: 'read', at: '' } : null },
    }) as unknown as BackupEntry;
  /** One backup a day at 02:00 local time, newest first, for `n` days up to `last`. */
  const dailies = (n: number, last = new Date(2026, 0, 10, 2)): BackupEntry[] =>
    Array.from({ length: n }, (_, i) => {
      const d = new Date(last.getFullYear(), last.getMonth(), last.getDate() - i, 2);
      return at(d.toISOString(), `b${String(i).padStart(4, '0')}`);
    });
  const ids = (list: Array<{ id: string }>) => list.map((b) => b.id);
  const now = new Date(2026, 0, 10, 3);

  it('keeps the newest backup of each of the last N days that have one; empty days do not use up the count', () => {
    const list = [
      at(new Date(2026, 0, 10, 2).toISOString(), 'jan10-late'),
      at(new Date(2026, 0, 10, 1).toISOString(), 'jan10-early'),
      at(new Date(2026, 0, 7, 2).toISOString(), 'jan7'),
      at(new Date(2026, 0, 1, 2).toISOString(), 'jan1'),
    ];
    const plan = planRetention(list, { keepDaily: 3 }, now);
    expect(ids(plan.keep)).toEqual(['jan10-late', 'jan7', 'jan1']);
    expect(ids(plan.remove)).toEqual(['jan10-early']);
    expect(plan.keep[2]!.reasons).toEqual(['newest of its day (daily 3 of 3)']);
  });

  it('a year of dailies under 7 daily, 4 weekly, 12 monthly, 2 yearly keeps exactly the expected set', () => {
    const list = dailies(400);
    const plan = planRetention(list, { keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 2 }, now);
    // daily: 7 newest; weekly: newest of 4 ISO weeks (Sat 10 Jan 2026 is in ISO week 2; weeks 2, 1, 52, 51 end on Sundays 4 Jan, 28 and 21 Dec);
    // monthly: 10 Jan and the last day of Feb..Dec 2025; yearly: 10 Jan 2026 and 31 Dec 2025.
    const kept = new Set(plan.keep.map((b) => b.manifest.startedAt.slice(0, 10)));
    const day = (y: number, m: number, d: number) => new Date(y, m, d, 2).toISOString().slice(0, 10);
    const expected = new Set<string>();
    for (let i = 0; i < 7; i++) expected.add(day(2026, 0, 10 - i));
    for (const d of [day(2026, 0, 4), day(2025, 11, 28), day(2025, 11, 21)]) expected.add(d); // Sundays ending ISO weeks
    for (let month = 1; month <= 11; month++) expected.add(day(2025, month + 1, 0)); // last day of Feb..Dec 2025
    expect([...kept].sort()).toEqual([...expected].sort());
    expect(plan.keep.length + plan.remove.length).toBe(400);
  });

  it('--keep-within keeps by calendar span from now; spans parse and refuse what is not a period', async () => {
    const { parseCalendarSpan, formatCalendarSpan } = await import('../../src/core/backup/retention.js');
    expect(formatCalendarSpan(parseCalendarSpan('1Y6m'))).toBe('1y6m');
    expect(parseCalendarSpan('36h')).toMatchObject({ hours: 36 });
    for (const bad of ['', '7', 'd', '1x', '1d1d', '0d', '-1d', '1.5d'])
      expect(() => parseCalendarSpan(bad)).toThrow(/--keep-within/);
    const plan = planRetention(dailies(40), { keepWithin: parseCalendarSpan('1m') }, now);
    // 10 Jan 03:00 minus one month is 10 Dec 03:00: the 10 Dec 02:00 backup is older.
    expect(plan.keep.length).toBe(31);
    expect(plan.keep.at(-1)!.reasons).toEqual(['within 1m']);
  });
});

describe('retention properties (fast-check)', () => {
  it('never removes the newest verified or a protected backup; keep and remove partition the input; more rules never remove more', async () => {
    const fc = await import('fast-check');
    const base = new Date(2026, 5, 15, 12).getTime();
    const backupsArb = fc.uniqueArray(
      fc.record({ minutesAgo: fc.integer({ min: 0, max: 3 * 365 * 1440 }), verified: fc.boolean() }),
      { selector: (b) => b.minutesAgo, minLength: 1, maxLength: 60 },
    );
    const count = fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined });
    const ruleArb = fc
      .record({ keepLast: count, keepDaily: count, keepWeekly: count, keepMonthly: count, keepYearly: count })
      .filter((r) => Object.values(r).some((v) => v !== undefined));
    fc.assert(
      fc.property(backupsArb, ruleArb, fc.nat(), (raw, rule, pick) => {
        const list = raw
          .sort((a, b) => a.minutesAgo - b.minutesAgo)
          .map(
            (b, i) =>
              ({
                id: `b${i}`,
                database: 'app',
                path: `/b/${i}`,
                manifest: {
                  startedAt: new Date(base - b.minutesAgo * 60_000).toISOString(),
                  verified: b.verified ? { method: 'read', at: '' } : null,
                },
              }) as unknown as BackupEntry,
          );
        const protectedId = list[pick % list.length]!.id;
        const plan = planRetention(list, rule, new Date(base), [protectedId]);
        const kept = new Set(plan.keep.map((b) => b.id));
        const removed = plan.remove.map((b) => b.id);
        expect(kept.size + removed.length).toBe(list.length);
        for (const id of removed) expect(kept.has(id)).toBe(false);
        expect(kept.has(protectedId)).toBe(true);
        const newestVerified = list.find((b) => b.manifest.verified !== null);
        if (newestVerified) expect(kept.has(newestVerified.id)).toBe(true);
        // the newest backup is kept by any calendar or last rule
        expect(kept.has(list[0]!.id)).toBe(true);
        // a larger count keeps a superset
        const bigger = Object.fromEntries(
          Object.entries(rule).map(([k, v]) => [k, v === undefined ? undefined : v + 1]),
        );
        const keptMore = new Set(planRetention(list, bigger, new Date(base), [protectedId]).keep.map((b) => b.id));
        for (const id of kept) expect(keptMore.has(id)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
