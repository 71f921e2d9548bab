/**
 * A TCP proxy in front of a PostgreSQL server that holds every answer of the server for
 * `delayMs` and counts the client's round trips: the times it sent something after it had
 * been answered. A client that sends its statements together (pipelined) makes one round trip
 * for them however many there are; one that waits for an answer before its next statement
 * makes one more each time. The delay makes the count exact: the client cannot see an answer
 * before `delayMs` has passed, so what it sends before then belongs to the same round trip.
 */
import { createServer, type Server, type Socket, connect } from 'node:net';

/** One round trip: the first byte of what the client sent (its message type) and its size. */
export interface RoundTrip {
  /** The message type of the first message sent ('P' parse, 'Q' query, 'p' password/SASL, 'X' terminate; '\0' the startup message). */
  type: string;
  bytes: number;
}

export interface RoundTripProxy {
  port: number;
  /** Every round trip of every connection, in order. */
  trips: RoundTrip[];
  /** Round trips that started with a query (Parse or simple Query): the handshake and the goodbye left out. */
  queryTrips(): RoundTrip[];
  close(): Promise<void>;
}

export async function startRoundTripProxy(
  upstream: { host: string; port: number },
  delayMs = 250,
): Promise<RoundTripProxy> {
  const trips: RoundTrip[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const backend = connect(upstream.port, upstream.host);
    sockets.add(client).add(backend);
    let answered = true; // the first thing the client sends starts a round trip
    let current: RoundTrip | undefined;
    let nextDelivery = 0;
    client.on('data', (chunk) => {
      if (answered || !current) {
        current = { type: String.fromCharCode(chunk[0]!), bytes: 0 };
        trips.push(current);
        answered = false;
      }
      current.bytes += chunk.length;
      backend.write(chunk);
    });
    backend.on('data', (chunk) => {
      // In order, each answer held back delayMs from when it came.
      nextDelivery = Math.max(nextDelivery, Date.now() + delayMs);
      setTimeout(() => {
        if (client.destroyed) return;
        answered = true;
        client.write(chunk);
      }, nextDelivery - Date.now());
    });
    const end = () => {
      setTimeout(() => client.end(), Math.max(0, nextDelivery - Date.now()) + 10);
    };
    backend.on('end', end);
    backend.on('error', () => client.destroy());
    client.on('end', () => backend.end());
    client.on('error', () => backend.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    trips,
    queryTrips: () => trips.filter((t) => t.type === 'P' || t.type === 'Q' || t.type === 'B'),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
