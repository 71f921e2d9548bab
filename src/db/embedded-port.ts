/**
 * The embedded server's port on 127.0.0.1: free before a cluster starts on it, and, when another
 * program holds it, a free one to suggest.
 */
import { connect, createServer } from 'node:net';
import { ConflictError, EmbeddedServerError } from '../errors.js';

/**
 * Resolves when nothing listens on `port`; a ConflictError naming a free port otherwise.
 * `bind`: also try to bind it, which finds a port bound but not listening (and, for a normal
 * user, a port below 1024); only under the start lock, where no sibling's bind probe can meet
 * it (a sibling's connect probe outside the lock can meet this one's listener: embedded.ts
 * probes again before it believes a busy port).
 */
export async function assertPortFree(port: number, options: { bind?: boolean } = {}): Promise<void> {
  let state = await portState(port);
  if (state === 'free' && options.bind) state = await bindState(port);
  if (state === 'free') return;
  if (state !== 'busy') throw new EmbeddedServerError(`cannot check port ${port}: ${state.message}`);
  const free = await nextFreePort(port);
  throw new ConflictError(`port ${port} on 127.0.0.1 is already in use by another program`, {
    hint: free
      ? `Choose another port for the embedded server: PGSTORE_PORT=${free} pgstore ... (${free} is free now)`
      : 'Choose another port for the embedded server: PGSTORE_PORT=<a free port> pgstore ...',
  });
}

/** The first port after `port` (up to 20 further) that nothing listens on now. */
async function nextFreePort(port: number): Promise<number | undefined> {
  for (let next = port + 1; next <= Math.min(65535, port + 20); next++) {
    if ((await portState(next)) === 'free') return next;
  }
  return undefined;
}

/**
 * Whether something listens on 127.0.0.1:`port`, found by connecting, never by binding: a
 * probe that binds holds the port for an instant, and a concurrent pgstore starting its server
 * there (or checking it under the start lock) then saw it "in use by another program"
 * (test/stress/embedded-start.test.ts).
 */
function portState(port: number): Promise<'free' | 'busy' | Error> {
  return new Promise((resolve) => {
    const probe = connect({ port, host: '127.0.0.1' });
    probe.setTimeout(2000, () => {
      probe.destroy();
      // Connections that hang on loopback: something holds the port and does not answer.
      resolve('busy');
    });
    probe.once('connect', () => {
      // Connected to itself: when the probed port is in the kernel's ephemeral range, the kernel
      // may pick it as the probe's own source port, and TCP's simultaneous open then connects
      // the socket to itself with nothing listening (Linux; about 1 probe in 28,000).
      const self = probe.localPort === port && probe.localAddress === '127.0.0.1';
      probe.destroy();
      resolve(self ? 'free' : 'busy');
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve('free');
      // Reset: something listened and closed before accepting (e.g. another pgstore's bind probe).
      else if (error.code === 'ECONNRESET') resolve('busy');
      else resolve(error);
    });
  });
}

/** Whether `port` can be bound on 127.0.0.1 now (the probe holds it for an instant). */
function bindState(port: number): Promise<'free' | 'busy' | Error> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? 'busy' : error),
    );
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve('free')));
  });
}
