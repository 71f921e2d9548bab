/**
 * Blockers for lock-timeout tests: a transaction of the test's own that holds a statement's
 * locks, and its release once a waiting attempt has been seen to give up.
 */
import type { TestDatabase } from './db.js';

/** A transaction on its own connection that holds `statement`'s locks until released. */
export async function blocker(db: TestDatabase, statement: string) {
  const conn = await db.sql.reserve();
  await conn.unsafe('begin');
  await conn.unsafe(statement);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await conn.unsafe('rollback');
      conn.release();
    },
  };
}

/**
 * Releases `hold` once an attempt of pgstore has been seen waiting for a lock and then no
 * longer waiting: with the blocker still there, that attempt ended by its lock timeout, and
 * pgstore is backing off (a second or more) before its retry, which then gets the lock. Seen,
 * not guessed: a fixed delay was shorter than a busy machine's start-up, and the blocker went
 * before the first attempt.
 */
export async function releaseOnceTimedOut(db: TestDatabase, hold: { release(): Promise<void> }, deadlineMs = 30_000) {
  const seen = new Set<string>();
  const until = Date.now() + deadlineMs;
  for (;;) {
    const waiting = (
      await db.sql<{ attempt: string }[]>`
        select pid::text || '@' || query_start::text as attempt from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and wait_event_type = 'Lock'`
    ).map((w) => w.attempt);
    if ([...seen].some((attempt) => !waiting.includes(attempt)) || Date.now() > until) break;
    for (const attempt of waiting) seen.add(attempt);
    // Each attempt waits its lock_timeout (200 ms and more): 25 ms polls see it.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  await hold.release();
}
