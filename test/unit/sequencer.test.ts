/**
 * The test files' start order (test/helpers/sequencer.ts, cpu-aware-order.ts): longest first, and never two files
 * that mostly wait beside one busy one while busy files are left.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuAwareOrder, type Job } from '../helpers/cpu-aware-order.js';

/** Replays `order` on `workers` workers: the CPU load (sum of shares) each start meets. */
function replay(jobs: Job<string>[], order: string[], workers: number) {
  const byName = new Map(jobs.map((j) => [j.item, j]));
  const running: Array<{ end: number; share: number }> = [];
  const starts: Array<{ job: Job<string>; load: number; busyLeft: boolean }> = [];
  let now = 0;
  order.forEach((name, i) => {
    if (running.length >= workers) {
      running.sort((a, b) => a.end - b.end);
      now = running.shift()!.end;
    }
    const job = byName.get(name)!;
    const load = running.reduce((sum, r) => sum + r.share, 0);
    const busyLeft = order.slice(i).some((n) => byName.get(n)!.cpuShare >= 0.6);
    starts.push({ job, load, busyLeft });
    running.push({ end: now + job.seconds, share: job.cpuShare });
  });
  return starts;
}

describe('cpuAwareOrder', () => {
  it('starts two busy files, then the longest waiting one beside them', () => {
    const jobs: Job<string>[] = [
      { item: 'pgbackrest', seconds: 14, cpuShare: 0.4 },
      { item: 'sigterm', seconds: 7, cpuShare: 0.9 },
      { item: 'standby', seconds: 8, cpuShare: 0.35 },
      { item: 'restore', seconds: 6, cpuShare: 1 },
      { item: 'seed', seconds: 4, cpuShare: 1 },
      { item: 'unit', seconds: 0.5, cpuShare: 1 },
    ];
    expect(cpuAwareOrder(jobs, 3, 2).slice(0, 3)).toEqual(['sigterm', 'restore', 'pgbackrest']);
    // One worker: longest first among the busy, then the waiting ones.
    expect(cpuAwareOrder(jobs, 1, 2)).toEqual(['sigterm', 'restore', 'seed', 'unit', 'pgbackrest', 'standby']);
  });

  it('keeps every file once, and never starts a waiting file where a busy one fits and is left', () => {
    const job = fc.record({
      seconds: fc.double({ min: 0.1, max: 20, noNaN: true }),
      cpuShare: fc.oneof(fc.constant(1), fc.double({ min: 0.01, max: 0.59, noNaN: true })),
    });
    fc.assert(
      fc.property(fc.array(job, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (specs, workers) => {
        const jobs = specs.map((s, i) => ({ item: `f${i}`, ...s }));
        const order = cpuAwareOrder(jobs, workers, 2);
        expect([...order].sort()).toEqual(jobs.map((j) => j.item).sort());
        for (const start of replay(jobs, order, workers))
          if (start.job.cpuShare < 0.6 && start.busyLeft) expect(start.load).toBeGreaterThan(1.5);
      }),
    );
  });
});
