/**
 * The retention flags `pgstore backup` and `pgstore backup prune` share: --keep-last,
 * --keep-within, --keep-days and the calendar ones (--keep-daily/weekly/monthly/yearly).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { RetentionRule } from '../core/backup/index.js';
import { decimalNumber, wholeNumber } from './parse.js';

/** Days of retention: a plain decimal > 0 (up to about 27,000 years, so dates stay valid). */
const days = decimalNumber('--keep-days', { nonZero: true, max: 10_000_000 });

/** `--keep-within`: parsed when the action runs (core's parser names the problem); here only its shape. */
function span(value: string): string {
  if (!/^\s*(\d{1,5}[ymwdhYMWDH])+\s*$/.test(value)) {
    throw new InvalidArgumentError('a period such as 14d, 2w, 6m (months), 1y or 36h is expected.');
  }
  return value;
}

const CALENDAR = [
  ['daily', 'day'],
  ['weekly', 'week'],
  ['monthly', 'month'],
  ['yearly', 'year'],
] as const;

/** Adds the retention flags; `when` starts each description ("after a successful backup, " or ""). */
export function addRetentionOptions(cmd: Command, when: string): Command {
  cmd.addOption(
    new Option('--keep-last <n>', `${when}keep the newest N backups`).argParser(wholeNumber('--keep-last', 1)),
  );
  cmd.addOption(
    new Option(
      '--keep-within <period>',
      `${when}keep every backup started within the period (14d, 2w, 6m, 1y, 36h)`,
    ).argParser(span),
  );
  for (const [period, noun] of CALENDAR) {
    cmd.addOption(
      new Option(
        `--keep-${period} <n>`,
        `${when}keep the newest backup of each of the last N ${noun}s that have one`,
      ).argParser(wholeNumber(`--keep-${period}`, 1)),
    );
  }
  cmd.addOption(
    new Option(
      '--keep-days <days>',
      `${when}keep backups younger than D days (same as --keep-within Dd, decimals allowed)`,
    ).argParser(days),
  );
  return cmd;
}

export interface RetentionFlags {
  keepLast?: number;
  keepWithin?: string;
  keepDays?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
}

/** The rule the flags describe (a backup kept by any of them stays). */
export async function retentionFrom(flags: RetentionFlags): Promise<RetentionRule> {
  const { parseCalendarSpan } = await import('../core/backup/index.js');
  return {
    keepLast: flags.keepLast,
    keepDays: flags.keepDays,
    keepWithin: flags.keepWithin === undefined ? undefined : parseCalendarSpan(flags.keepWithin),
    keepDaily: flags.keepDaily,
    keepWeekly: flags.keepWeekly,
    keepMonthly: flags.keepMonthly,
    keepYearly: flags.keepYearly,
  };
}
