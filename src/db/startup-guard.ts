/**
 * The sockets pgstore's pools connect with: each watches the server's first answers and ends a
 * startup that cannot succeed with an error, so that the driver reports it instead of retrying.
 *
 * Why: postgres.js (3.4.9, src/connection.js `closed()`) reconnects at once, with no delay and
 * without counting, whenever a socket closes cleanly while a connection's first query is
 * pending (`if (initial) return reconnect()`), and it cancels its connect timer on every close,
 * so `connect_timeout` never fires. A port that answers but is not PostgreSQL (an HTTP server
 * replying 400 and closing) thus made thousands of connections a second, forever. Upstream:
 * https://github.com/porsager/postgres/issues/1193 (fix proposed in
 * https://github.com/porsager/postgres/pull/1214). A clean close (FIN) is the only case the
 * driver retries; an error on the socket rejects the pending query and is not retried. So the
 * guard turns "not PostgreSQL" and "closed during startup" into `socket.destroy(error)`.
 *
 * What it checks, before PostgreSQL's startup completes (ReadyForQuery), and nothing after:
 * - the answer to SSLRequest is `S`, `N` (or `E` from very old servers);
 * - the first message after the StartupMessage is `R` (authentication), `E` or `v`, of a sane
 *   length; later startup messages are framed until `Z` (then the guard lets go);
 * - the server does not close the connection before `Z`.
 * With TLS the guard stops at `S` (the driver then wraps the socket itself); connectPool's
 * deadline still bounds a TLS startup that never completes.
 */
import net from 'node:net';
import { ConnectionError } from '../errors.js';
import { takeEarlySocket } from './early-socket.js';

/** Set on the errors the guard raises; `connectionError` in pool.ts passes them through. */
export const NOT_POSTGRES = 'NOT_POSTGRES';
export const CLOSED_IN_STARTUP = 'CLOSED_IN_STARTUP';

/** The parsed driver options the driver hands to its `socket` option (the parts read here). */
export interface DriverSocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
  ssl?: unknown;
  sslnegotiation?: string | null;
}

interface GuardTarget {
  host: string;
  port: number;
  path?: string;
  /** Whether the driver starts with an SSLRequest (any ssl option but false, not direct TLS). */
  sslRequest: boolean;
}

/** After this many startups in a row that closed early, a pool refuses for a while. */
const MAX_FAILED_STARTUPS = 3;
const REFUSE_MS = 2_000;

/** One pool's record of startups that closed before completing. */
interface PoolGuard {
  failedInARow: number;
  lastFailure: ConnectionError | undefined;
  lastFailureAt: number;
}

/**
 * The driver's `socket` option, one per pool: each call makes a socket to the one host (pgstore
 * never gives the driver several), with the startup guard attached. A backstop bounds what the
 * checks below might miss: after MAX_FAILED_STARTUPS startups in a row closed early, the pool's
 * next sockets fail at once (an error, which the driver does not retry) for REFUSE_MS.
 */
export function guardedSocketFactory(): (options: DriverSocketOptions) => net.Socket {
  const pool: PoolGuard = { failedInARow: 0, lastFailure: undefined, lastFailureAt: 0 };
  return (options) => {
    const target: GuardTarget = {
      host: options.host[0] ?? 'localhost',
      port: options.port[0] ?? 5432,
      path: options.path || undefined,
      sslRequest: !!options.ssl && options.sslnegotiation !== 'direct',
    };
    // The socket the CLI opened early to this server (early-socket.ts), else a new one.
    const early = takeEarlySocket(target.host, target.port, target.path);
    const socket = early ?? new net.Socket();
    // As libpq does (TCP_NODELAY): the driver writes a pipeline of statements in several
    // writes, and Nagle's algorithm held each one after the first until the server's answer
    // acknowledged it, a round trip per write (health's checks took ~4 instead of one).
    socket.setNoDelay(true);
    // The driver reads these for TLS's server name and its own error messages.
    Object.assign(socket, { host: target.host, port: target.port });
    if (pool.failedInARow >= MAX_FAILED_STARTUPS && Date.now() - pool.lastFailureAt < REFUSE_MS) {
      const error = pool.lastFailure ?? closedError(whereOf(target), Buffer.alloc(0));
      // Destroyed once the driver listens: it rejects the pending query with this error.
      setImmediate(() => socket.destroy(error));
      return socket;
    }
    if (options.sslnegotiation !== 'direct') watchStartup(socket, target, pool);
    if (early) return socket; // connecting or connected already
    if (target.path) socket.connect(target.path);
    else socket.connect(target.port, target.host);
    return socket;
  };
}

function whereOf(target: GuardTarget): string {
  return target.path ?? `${target.host}:${target.port}`;
}

function closedError(where: string, seen: Buffer): ConnectionError {
  return guardError(
    CLOSED_IN_STARTUP,
    `${where} closed the connection before PostgreSQL's startup completed (it answered ${describe(seen)})`,
    'Is it a PostgreSQL server, and is it up? A proxy in front of a server that is down does this too.',
  );
}

const MAX_STARTUP_MESSAGE = 1 << 20;

function watchStartup(socket: net.Socket, target: GuardTarget, pool: PoolGuard): void {
  const where = whereOf(target);
  let expecting: 'ssl' | 'first' | 'more' = target.sslRequest ? 'ssl' : 'first';
  let pending: Buffer = Buffer.alloc(0);
  let seen: Buffer = Buffer.alloc(0); // what the server said, for the message (first bytes only)
  let failure: ConnectionError | undefined;

  // The guard sees each event before any listener (the driver's included), so a chunk that
  // fails the check never reaches the driver's parser; after ReadyForQuery (or the server's
  // yes to TLS) it steps aside.
  const emit = socket.emit.bind(socket);
  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'data') {
      const error = check(args[0] as Buffer);
      if (error) return fail(error);
    } else if (event === 'end') {
      return fail(closedError(where, seen));
    } else if (event === 'close') {
      // Closed before the startup completed, whatever the reason: counted for the backstop.
      pool.failedInARow++;
      pool.lastFailure = failure ?? closedError(where, seen);
      pool.lastFailureAt = Date.now();
    }
    return emit(event, ...args);
  }) as typeof socket.emit;

  const letGo = () => {
    pool.failedInARow = 0;
    delete (socket as { emit?: unknown }).emit; // back to the prototype's
  };
  const fail = (error: ConnectionError): boolean => {
    failure = error;
    socket.destroy(error);
    return false;
  };

  /** Returns an error when the bytes so far cannot be PostgreSQL's startup; lets go at its end. */
  function check(chunk: Buffer): ConnectionError | undefined {
    if (seen.length < 64) seen = Buffer.concat([seen, chunk.subarray(0, 64 - seen.length)]);
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const notPostgres = (): ConnectionError =>
      guardError(
        NOT_POSTGRES,
        `${where} is not a PostgreSQL server (it answered ${describe(seen)})`,
        'Check the host and port in the connection URL: another kind of server listens there.',
      );
    if (expecting === 'ssl') {
      const answer = pending[0];
      if (answer === 0x53 /* S */ || answer === 0x45 /* E */) return void letGo();
      if (answer !== 0x4e /* N */) return notPostgres();
      pending = pending.subarray(1);
      expecting = 'first';
    }
    while (pending.length >= 5) {
      const type = pending[0];
      const length = pending.readUInt32BE(1);
      if (length < 4 || length > MAX_STARTUP_MESSAGE) return notPostgres();
      if (expecting === 'first' && type !== 0x52 /* R */ && type !== 0x45 /* E */ && type !== 0x76 /* v */)
        return notPostgres();
      expecting = 'more';
      if (type === 0x5a /* Z: ReadyForQuery, startup done */) return void letGo();
      if (pending.length < length + 1) return undefined;
      pending = pending.subarray(length + 1);
    }
    return undefined;
  }
}

function guardError(code: string, message: string, hint: string): ConnectionError {
  return Object.assign(new ConnectionError(message, { hint }), { code });
}

/** The server's first bytes, quoted and printable: `"HTTP/1.1 400 Bad Request"`, or `nothing`. */
export function describe(bytes: Buffer): string {
  if (bytes.length === 0) return 'nothing';
  const firstLine = bytes.subarray(0, 48).toString('latin1').split(/\r?\n/)[0] ?? '';
  const printable = firstLine.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `"${printable}${bytes.length > 48 || firstLine.length < bytes.length ? '…' : ''}"`;
}
