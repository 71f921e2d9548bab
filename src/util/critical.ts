/**
 * Critical sections: short steps that must not be cut in the middle by a stop signal (a
 * database disallowed for connections and not yet swapped, say). The CLI's SIGTERM/SIGHUP/
 * SIGINT handler waits for running sections to end before it exits; a second signal still
 * stops the process at once.
 */
let running = 0;
let stopping = false;
const waiters = new Set<() => void>();
const stopHooks = new Set<() => Promise<unknown>>();

/**
 * Runs `fn` as a critical section. Once the process is stopping, none starts: the returned
 * promise never settles, and the process exits around it.
 */
export async function critical<T>(fn: () => Promise<T>): Promise<T> {
  if (stopping) return new Promise<T>(() => undefined);
  running++;
  try {
    return await fn();
  } finally {
    running--;
    if (running === 0) for (const wake of waiters) wake();
  }
}

/**
 * Resolves when no critical section is running, or after `timeoutMs` at the latest. With
 * `stopping`, no new section starts from now on.
 */
export function criticalSectionsDone(timeoutMs: number, options: { stopping?: boolean } = {}): Promise<void> {
  if (options.stopping && !stopping) {
    stopping = true;
    for (const hook of stopHooks) {
      running++;
      void hook()
        .catch(() => undefined)
        .finally(() => {
          running--;
          if (running === 0) for (const wake of waiters) wake();
        });
    }
  }
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

/**
 * Registers clean-up work (dropping a scratch database, say) to run when the process is told
 * to stop; the stop waits for it like for a critical section. Returns the unregister function,
 * to call once the work is no longer needed.
 */
export function onStop(hook: () => Promise<unknown>): () => void {
  stopHooks.add(hook);
  return () => {
    stopHooks.delete(hook);
  };
}
