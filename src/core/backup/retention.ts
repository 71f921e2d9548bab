/**
 * Which backups a retention policy keeps: the newest N, everything within a period, and the
 * newest backup of each of the last N days, weeks, months and years (grandfather-father-son),
 * never below a floor: the newest verified backup and a backup just taken always stay.
 *
 * The calendar rules follow restic's `forget` (https://restic.readthedocs.io/en/stable/060_forget.html):
 * `--keep-daily 7` keeps, for each of the last 7 days that HAVE a backup, the newest backup of
 * that day; days without a backup do not use up the count. Weeks are ISO weeks (Monday first).
 * Periods are the machine's local calendar (as restic and borg do), so set TZ for cron in UTC.
 * pgBackRest declined calendar retention (pgbackrest/pgbackrest#1284); WAL-G and Barman lack it.
 */
import { UsageError } from '../../errors.js';
import type { BackupEntry } from './catalog.js';
import { plural } from '../../util/format.js';

/** A calendar period such as `1y6m`, `2w`, `36h`: what `--keep-within` takes. */
export interface CalendarSpan {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
}

export interface RetentionRule {
  /** Keep the newest N backups. */
  keepLast?: number | undefined;
  /** Keep backups started within the last D days (the older spelling of keepWithin: `Dd`). */
  keepDays?: number | undefined;
  /** Keep backups started within this span before now. */
  keepWithin?: CalendarSpan | undefined;
  /** Keep the newest backup of each of the last N days (weeks, months, years) that have one. */
  keepDaily?: number | undefined;
  keepWeekly?: number | undefined;
  keepMonthly?: number | undefined;
  keepYearly?: number | undefined;
}

export interface RetentionPlan {
  keep: Array<BackupEntry & { reasons: string[] }>;
  remove: BackupEntry[];
}

const SPAN_UNITS: Record<string, keyof CalendarSpan> = { y: 'years', m: 'months', w: 'weeks', d: 'days', h: 'hours' };

/** Parses `--keep-within`: one or more `<n><unit>` with units y, m (months), w, d, h, e.g. `1y6m`, `14d`, `36h`. */
export function parseCalendarSpan(text: string, flag = '--keep-within'): CalendarSpan {
  const span: CalendarSpan = { years: 0, months: 0, weeks: 0, days: 0, hours: 0 };
  const trimmed = text.trim().toLowerCase();
  const hint = 'Use units y (years), m (months), w (weeks), d (days), h (hours), e.g. 14d, 2w, 1y6m, 36h.';
  if (!/^(\d{1,5}[ymwdh])+$/.test(trimmed)) throw new UsageError(`${flag} '${text}' is not a period`, { hint });
  const seen = new Set<string>();
  for (const [, n, unit] of trimmed.matchAll(/(\d+)([ymwdh])/g)) {
    if (seen.has(unit!)) throw new UsageError(`${flag} '${text}' names '${unit}' twice`, { hint });
    seen.add(unit!);
    span[SPAN_UNITS[unit!]!] = Number(n);
  }
  if (Object.values(span).every((v) => v === 0)) throw new UsageError(`${flag} '${text}' is an empty period`, { hint });
  return span;
}

/** The span as it was written, canonically (`1y6m`), for reasons and JSON. */
export function formatCalendarSpan(span: CalendarSpan): string {
  return (Object.entries(SPAN_UNITS) as Array<[string, keyof CalendarSpan]>)
    .filter(([, key]) => span[key] > 0)
    .map(([unit, key]) => `${span[key]}${unit}`)
    .join('');
}

/** The moment `span` before `now`, in calendar arithmetic (a month back from 31 March is 3 March, as Date does). */
export function spanStart(now: Date, span: CalendarSpan): number {
  const d = new Date(now.getTime());
  d.setFullYear(d.getFullYear() - span.years, d.getMonth() - span.months, d.getDate() - span.weeks * 7 - span.days);
  return d.getTime() - span.hours * 3_600_000;
}

/** The local calendar day, ISO week, month and year a moment falls in, as bucket keys. */
function periodKeys(at: Date): Record<'daily' | 'weekly' | 'monthly' | 'yearly', string> {
  const y = at.getFullYear();
  const m = at.getMonth() + 1;
  // ISO week: the week belongs to the year of its Thursday. Day arithmetic on the local date
  // in UTC, so a daylight-saving change cannot shift a day.
  const thursday = new Date(Date.UTC(y, at.getMonth(), at.getDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 3 - ((thursday.getUTCDay() + 6) % 7));
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(thursday.getUTCFullYear(), 0, 1)) / 86_400_000 / 7);
  return {
    daily: `${y}-${m}-${at.getDate()}`,
    weekly: `${thursday.getUTCFullYear()}-W${week}`,
    monthly: `${y}-${m}`,
    yearly: `${y}`,
  };
}

const CALENDAR = [
  ['keepDaily', 'daily', 'day'],
  ['keepWeekly', 'weekly', 'week'],
  ['keepMonthly', 'monthly', 'month'],
  ['keepYearly', 'yearly', 'year'],
] as const;

/** Refuses counts that are not whole numbers ≥ 1 (the CLI's parsers already do; the library is checked here). */
export function checkRetentionRule(rule: RetentionRule): void {
  const counts = [['keepLast', '--keep-last'], ...CALENDAR.map(([key, period]) => [key, `--keep-${period}`])] as const;
  for (const [key, flag] of counts) {
    const n = rule[key as keyof RetentionRule] as number | undefined;
    if (n !== undefined && (!Number.isInteger(n) || n < 1))
      throw new UsageError(`${flag} must be a whole number ≥ 1, got ${n}`);
  }
  if (rule.keepDays !== undefined && !(rule.keepDays > 0))
    throw new UsageError('--keep-days must be a number of days > 0');
}

/** True when the rule names at least one way to keep backups. */
export function hasRetentionRule(rule: RetentionRule): boolean {
  return (
    rule.keepLast !== undefined ||
    rule.keepDays !== undefined ||
    rule.keepWithin !== undefined ||
    CALENDAR.some(([key]) => rule[key] !== undefined)
  );
}

/**
 * Plans retention over `backups` (newest first, intact ones only: damaged backups are neither
 * counted nor deleted; the caller reports them). A backup kept by any rule stays, with every
 * rule that keeps it as a reason; the newest verified backup and the `protect`ed ids always stay.
 */
export function planRetention(
  backups: BackupEntry[],
  rule: RetentionRule,
  now: Date,
  protect: string[] = [],
): RetentionPlan {
  checkRetentionRule(rule);
  if (!hasRetentionRule(rule)) {
    throw new UsageError('retention needs a rule', {
      hint: 'For example --keep-daily 7 --keep-weekly 4 --keep-monthly 12, --keep-last 10, or --keep-within 14d.',
    });
  }
  const sorted = [...backups].sort((a, b) => Date.parse(b.manifest.startedAt) - Date.parse(a.manifest.startedAt));
  const reasons = new Map<BackupEntry, string[]>(sorted.map((b) => [b, []]));
  const keepBy = (b: BackupEntry, why: string) => reasons.get(b)!.push(why);

  if (rule.keepLast !== undefined)
    sorted.slice(0, rule.keepLast).forEach((b) => keepBy(b, `among the newest ${rule.keepLast}`));
  const windows: Array<[number, string]> = [];
  if (rule.keepDays !== undefined)
    windows.push([now.getTime() - rule.keepDays * 86_400_000, `younger than ${plural(rule.keepDays, 'day')}`]);
  if (rule.keepWithin !== undefined)
    windows.push([spanStart(now, rule.keepWithin), `within ${formatCalendarSpan(rule.keepWithin)}`]);
  for (const b of sorted) {
    for (const [cutoff, why] of windows) if (Date.parse(b.manifest.startedAt) >= cutoff) keepBy(b, why);
  }
  for (const [key, period, noun] of CALENDAR) {
    const count = rule[key];
    if (count === undefined) continue;
    const seen = new Set<string>();
    for (const b of sorted) {
      if (seen.size >= count) break;
      const bucket = periodKeys(new Date(b.manifest.startedAt))[period];
      if (seen.has(bucket)) continue;
      seen.add(bucket);
      keepBy(b, `newest of its ${noun} (${period} ${seen.size} of ${count})`);
    }
  }
  const newestVerified = sorted.find((b) => b.manifest.verified !== null);
  if (newestVerified) keepBy(newestVerified, 'newest verified backup');
  for (const b of sorted) if (protect.includes(b.id)) keepBy(b, 'just taken');

  const keep: RetentionPlan['keep'] = [];
  const remove: BackupEntry[] = [];
  for (const b of sorted) {
    const why = reasons.get(b)!;
    if (why.length) keep.push({ ...b, reasons: why });
    else remove.push(b);
  }
  return { keep, remove };
}
