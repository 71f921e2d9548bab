/**
 * One socket to the server opened before the command that uses it has loaded, so that the
 * server accepts it and starts its backend process while pgstore builds its commands and loads
 * the driver (`health`: issue 15). The pool's first connection takes it (startup-guard.ts) when
 * it goes to the same place; the driver then sends its startup message on it as on any socket.
 *
 * Bounded: nothing is written on it until the driver takes it; it does not keep the process
 * alive (unref), it is destroyed after HOLD_MS or by closeEarlySocket() (the CLI calls it when
 * the run ends) when nobody took it, and a socket that failed is never handed over (the driver
 * then connects as usual and reports its own error). PostgreSQL 15 logs nothing for a connection
 * that closes before sending anything (checked with log_connections on).
 */
import net from 'node:net';
import type { ServerConnection } from './config.js';

/** How long an untaken early socket stays open. */
const HOLD_MS = 5_000;

interface EarlySocket {
  where: string;
  socket: net.Socket;
  failed: boolean;
  timer: NodeJS.Timeout;
}

let early: EarlySocket | undefined;

/** Where a socket goes: the Unix socket's path, or host:port. */
function whereOf(host: string, port: number, path?: string): string {
  return path ?? `${host}:${port}`;
}

/** Opens the early socket to `conn`'s server (one at a time; a second call does nothing). */
export function openEarlySocket(conn: ServerConnection): void {
  if (early) return;
  const path = conn.host.startsWith('/') ? `${conn.host}/.s.PGSQL.${conn.port}` : undefined;
  const socket = new net.Socket();
  socket.setNoDelay(true); // as the guarded sockets (startup-guard.ts says why)
  const entry: EarlySocket = {
    where: whereOf(conn.host, conn.port, path),
    socket,
    failed: false,
    timer: setTimeout(closeEarlySocket, HOLD_MS).unref(),
  };
  socket.on('error', () => {
    entry.failed = true;
    socket.destroy();
  });
  if (path) socket.connect(path);
  else socket.connect(conn.port, conn.host);
  socket.unref();
  early = entry;
}

/**
 * The early socket when it goes to `host`:`port` (or `path`) and has not failed: taken once,
 * the caller owns it from then on. Any other early socket is closed.
 */
export function takeEarlySocket(host: string, port: number, path?: string): net.Socket | undefined {
  const entry = early;
  if (!entry) return undefined;
  early = undefined;
  clearTimeout(entry.timer);
  const { socket } = entry;
  if (entry.failed || socket.destroyed || entry.where !== whereOf(host, port, path)) {
    socket.destroy();
    return undefined;
  }
  socket.removeAllListeners('error'); // the driver listens from now on
  socket.ref();
  return socket;
}

/** Closes the early socket if nobody took it. */
export function closeEarlySocket(): void {
  const entry = early;
  if (!entry) return;
  early = undefined;
  clearTimeout(entry.timer);
  entry.socket.destroy();
}
