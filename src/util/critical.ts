/**
 * Critical sections: short steps that must not be cut in the middle by a stop signal (a
 * database disallowed for connections and not yet swapped, say). The CLI's SIGTERM/SIGHUP/
 * SIGINT handler waits for running sections to end before it exits; a second signal still
 * stops the process at once.
 */
let running = 0;
const waiters = new Set<() => void>();

/** Runs `fn` as a critical section. */
export async function critical<T>(fn: () => Promise<T>): Promise<T> {
  running++;
  try {
    return await fn();
  } finally {
    running--;
    if (running === 0) for (const wake of waiters) wake();
  }
}

/** Resolves when no critical section is running, or after `timeoutMs` at the latest. */
export function criticalSectionsDone(timeoutMs: number): Promise<void> {
  if (running === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    waiters.add(done);
  });
}
