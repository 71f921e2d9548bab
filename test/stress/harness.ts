/**
 * The stress tier's one convention. Each promise ("exactly one writer wins", "consumed once"...)
 * is tried for many rounds from separate connections (a pool of its own per contender, never
 * pipelined on one), and every round that breaks it counts as a violation.
 *
 * `npm test` runs the bounded rounds (seconds); `npm run stress` (scripts/stress.js) sets
 * PGSTORE_STRESS=1 for the long rounds and PGSTORE_STRESS_REPORT to a file where each promise
 * appends one JSON line, then prints the table of rounds and violations per promise.
 */
import { appendFileSync } from 'node:fs';
import type postgres from 'postgres';
import { rawSql } from '../helpers/raw-sql.js';
import { expect } from 'vitest';

/** True under `npm run stress`. */
export const STRESS = process.env.PGSTORE_STRESS === '1';

/** How many rounds to run: `quick` in `npm test`, `long` under `npm run stress`. */
export function rounds(quick: number, long: number): number {
  const override = Number(process.env.PGSTORE_STRESS_ROUNDS);
  if (Number.isInteger(override) && override > 0) return override;
  return STRESS ? long : quick;
}

export interface PromiseResult {
  /** What is promised, in words a reader of the report understands. */
  promise: string;
  rounds: number;
  violations: number;
  /** A few examples of what broke (kept short). */
  examples?: string[];
}

/** Records one promise's result for the stress report and fails the test on any violation. */
export function reportPromise(result: PromiseResult): void {
  const file = process.env.PGSTORE_STRESS_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify({ ...result, examples: result.examples?.slice(0, 3) })}\n`);
  expect(
    result.violations,
    `${result.promise}: ${result.violations} of ${result.rounds} rounds broke it\n${(result.examples ?? []).slice(0, 3).join('\n')}`,
  ).toBe(0);
}

/**
 * Runs `round` `count` times; a round returns null when the promise held, else a description of
 * the violation. Results are reported under `promise`.
 */
export async function tryPromise(
  promise: string,
  count: number,
  round: (i: number) => Promise<string | null>,
): Promise<void> {
  let violations = 0;
  const examples: string[] = [];
  for (let i = 0; i < count; i++) {
    const broke = await round(i);
    if (broke !== null) {
      violations++;
      if (examples.length < 3) examples.push(`round ${i}: ${broke}`);
    }
  }
  reportPromise({ promise, rounds: count, violations, examples });
}

/** `n` separate single-connection pools on `url`, opened and warmed up; `end` closes them. */
export async function separateConnections(
  url: string,
  n: number,
): Promise<{ pools: postgres.Sql[]; end(): Promise<void> }> {
  const pools = Array.from({ length: n }, () => rawSql(url, { max: 1, onnotice: () => undefined }));
  await Promise.all(pools.map((p) => p`select 1`));
  return { pools, end: async () => void (await Promise.all(pools.map((p) => p.end({ timeout: 5 })))) };
}

/** Starts every function at once (after all are ready) and settles them all. */
export function together<T>(fns: Array<() => Promise<T>>): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(fns.map((fn) => fn()));
}

/**
 * The cases of an `as` × `bs` matrix to run: all of them under `npm run stress`; in `npm test`
 * max(|as|, |bs|) of them, so that every `a` and every `b` is tried at least once. Which pairs
 * are taken rotates by day (so the whole matrix is covered over a few days of `npm test`);
 * PGSTORE_TEST_ROTATION=N picks a rotation to reproduce a failure (the test name shows the pair).
 */
export function matrix<A, B>(as: readonly A[], bs: readonly B[]): Array<[A, B]> {
  if (STRESS) return as.flatMap((a) => bs.map((b): [A, B] => [a, b]));
  const fixed = Number(process.env.PGSTORE_TEST_ROTATION);
  const offset = Number.isInteger(fixed) && fixed >= 0 ? fixed : Math.floor(Date.now() / 86_400_000);
  const n = Math.max(as.length, bs.length);
  return Array.from({ length: n }, (_, i): [A, B] => [as[i % as.length]!, bs[(i + offset) % bs.length]!]);
}
