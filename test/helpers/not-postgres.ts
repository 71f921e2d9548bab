/**
 * Listeners on 127.0.0.1 that answer but are not PostgreSQL, for the tests of bounded waits
 * (test/e2e/not-postgres.test.ts, test/stress/not-postgres.test.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';

export type Kind = 'http' | 'silent' | 'reset' | 'wrong-first-byte' | 'close';
export const KINDS: Kind[] = ['http', 'silent', 'reset', 'wrong-first-byte', 'close'];

export interface Listener {
  kind: Kind;
  port: number;
  connections: number;
  server: Server;
  sockets: Set<Socket>;
}

export function listen(kind: Kind): Promise<Listener> {
  const listener = { kind, port: 0, connections: 0, sockets: new Set<Socket>() } as Listener;
  listener.server = createServer((socket) => {
    listener.connections++;
    listener.sockets.add(socket);
    socket.on('close', () => listener.sockets.delete(socket));
    socket.on('error', () => undefined);
    switch (kind) {
      case 'http':
        socket.once('data', () =>
          socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
        );
        break;
      case 'reset':
        socket.resetAndDestroy();
        break;
      case 'wrong-first-byte':
        // ReadyForQuery, well framed, where an answer to SSLRequest or the startup belongs.
        socket.once('data', () => socket.end(Buffer.from([0x5a, 0, 0, 0, 5, 0x49])));
        break;
      case 'close':
        socket.end();
        break;
      case 'silent':
        break;
    }
  });
  return new Promise((resolve) =>
    listener.server.listen(0, '127.0.0.1', () => {
      listener.port = (listener.server.address() as { port: number }).port;
      resolve(listener);
    }),
  );
}

/** Closes the listeners and every socket they still hold. */
export async function closeListeners(listeners: Iterable<Listener>): Promise<void> {
  for (const l of listeners) {
    for (const s of l.sockets) s.destroy();
    await new Promise<void>((resolve) => l.server.close(() => resolve()));
  }
}

/** What pgstore says of each kind. */
export const EXPECTED: Record<Kind, RegExp> = {
  http: /is not a PostgreSQL server \(it answered "HTTP\/1\.1 400 Bad Request/,
  silent: /timed out/,
  reset: /reset the connection/,
  'wrong-first-byte': /is not a PostgreSQL server \(it answered "Z/,
  close: /closed the connection before PostgreSQL's startup completed \(it answered nothing\)/,
};

/** A URL on the listener with a short connect timeout. */
export const urlOf = (l: Listener, timeoutSeconds: number, extra = '') =>
  `postgres://someone:pw@127.0.0.1:${l.port}/app?acquire_timeout=${timeoutSeconds}${extra}`;
