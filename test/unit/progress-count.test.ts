/**
 * The count bar (hosts import, synthetic seed, migrate up): its rate and time left count from
 * the job's first update, when lines start moving, not from when the bar was made (reading and
 * checking a large file first took seconds, and the first estimate said "182 lines/s, ETA 9m03s"
 * for a 25 s import). The clock is Date's, set by hand: the bar reads nothing else.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { countProgress } from '../../src/ui/progress-count.js';

function terminal() {
  const writes: string[] = [];
  const stream = Object.assign(
    {
      write: (text: string) => {
        writes.push(text);
        return true;
      },
    },
    { isTTY: true, columns: 200 },
  ) as unknown as NodeJS.WritableStream & { isTTY: boolean; columns: number };
  return { writes, stream };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the count bar', () => {
  it('measures the rate from the first update, not from when it was made', () => {
    const { writes, stream } = terminal();
    const bar = countProgress(stream, 'importing', true, 'lines');
    vi.setSystemTime(5_000); // the file read and checked: no line moved yet
    bar.update(0, 100_000);
    vi.setSystemTime(6_000); // 2% in a second: 2,000 lines a second
    bar.update(2_000, 100_000);
    expect(writes.at(-1)).toMatch(/ {2}2% {2}2000\/100\.0k {2}2000 lines\/s {2}ETA 49s$/);
  });

  it('with no "0 of N" update, counts from the first one it gets', () => {
    const { writes, stream } = terminal();
    const bar = countProgress(stream, 'loading', true, 'rows');
    vi.setSystemTime(3_000);
    bar.update(10_000, 100_000);
    expect(writes.at(-1)).not.toMatch(/\/s|ETA/);
    vi.setSystemTime(4_000);
    bar.update(20_000, 100_000);
    expect(writes.at(-1)).toMatch(/10\.0k rows\/s {2}ETA 8s$/);
  });
});
