/** The start order the test sequencer (sequencer.ts) gives: a simulation of the workers. */

/** A job whose share of CPU (CPU time over wall time) is below this mostly waits. */
export const WAITS = 0.6;

export interface Job<T> {
  item: T;
  seconds: number;
  cpuShare: number;
}

/**
 * The start order of `jobs` on `workers` workers and `cores` cores, by simulating them: each
 * free worker takes the longest job left, except that a job that mostly waits goes first once
 * the running jobs fill the cores, and a busy one first while they do not.
 */
export function cpuAwareOrder<T>(jobs: Job<T>[], workers: number, cores: number): T[] {
  const left = [...jobs].sort((a, b) => b.seconds - a.seconds);
  const running: Array<{ end: number; cpuShare: number }> = [];
  const order: T[] = [];
  let now = 0;
  while (left.length > 0) {
    if (running.length >= workers) {
      running.sort((a, b) => a.end - b.end);
      now = running.shift()!.end;
    }
    const load = running.reduce((sum, job) => sum + job.cpuShare, 0);
    const wantsWaiting = load > cores - 0.5;
    let index = left.findIndex((job) => job.cpuShare < WAITS === wantsWaiting);
    if (index < 0) index = 0;
    const [job] = left.splice(index, 1);
    order.push(job!.item);
    running.push({ end: now + job!.seconds, cpuShare: job!.cpuShare });
  }
  return order;
}
