/**
 * The socket `pgstore health` opens before its command has loaded (db/early-socket.ts): the
 * pool's first connection runs on it when it goes to the same server, any other is closed
 * unused, a failed one is never handed over, and the CLI opens one only when the target is
 * certain (commands/early-connect.ts).
 */
import { createServer, type Server, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { wantsEarlyConnect } from '../../src/commands/early-connect.js';
import type { ServerConnection } from '../../src/db/config.js';
import { closeEarlySocket, openEarlySocket, takeEarlySocket } from '../../src/db/early-socket.js';
import { openPool } from '../../src/db/pool.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();

/** A loopback listener that records the sockets it accepts and the bytes each sent. */
let decoy: Server;
const accepted: Array<{ socket: Socket; bytes: number; closed: boolean }> = [];
beforeAll(async () => {
  decoy = createServer((socket) => {
    const entry = { socket, bytes: 0, closed: false };
    accepted.push(entry);
    socket.on('data', (chunk) => {
      entry.bytes += chunk.length;
    });
    socket.on('close', () => {
      entry.closed = true;
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => decoy.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => decoy.close(() => resolve())));
afterEach(() => closeEarlySocket());
const decoyConn = (): ServerConnection =>
  ({ ...db.conn, host: '127.0.0.1', port: (decoy.address() as { port: number }).port }) as ServerConnection;

async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the early socket', () => {
  it("is the pool's first connection when it goes to the pool's server", async () => {
    openEarlySocket(db.conn);
    // Sockets connected from here on (the early one connected already).
    let connects = 0;
    const connect = Socket.prototype.connect;
    Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
      connects++;
      return (connect as (...a: unknown[]) => Socket).apply(this, args);
    } as typeof connect;
    const sql = await openPool(db.conn, { max: 1, fetchTypes: false });
    try {
      const [row] = await sql<{ one: number }[]>`select 1 as one`;
      expect(row!.one).toBe(1);
      expect(connects).toBe(0);
      expect(takeEarlySocket(db.conn.host, db.conn.port)).toBeUndefined(); // taken once
    } finally {
      Socket.prototype.connect = connect;
      await sql.end({ timeout: 0 });
    }
  });

  it('connects before the pool exists, and the pool sends its startup on it', async () => {
    const before = accepted.length;
    openEarlySocket(decoyConn());
    await until('the decoy to accept the early socket', () => accepted.length === before + 1);
    const entry = accepted[before]!;
    expect(entry.bytes).toBe(0); // nothing is written before the driver takes it
    const socket = takeEarlySocket('127.0.0.1', decoyConn().port)!;
    expect(socket).toBeDefined();
    socket.write('x');
    await until('the byte to arrive on the same connection', () => entry.bytes === 1);
    expect(accepted.length).toBe(before + 1);
    socket.destroy();
  });

  it('is closed unused when the pool goes elsewhere, or when the run ends', async () => {
    const before = accepted.length;
    openEarlySocket(decoyConn());
    await until('the decoy to accept', () => accepted.length === before + 1);
    expect(takeEarlySocket(db.conn.host, db.conn.port)).toBeUndefined();
    await until('the unused socket to close', () => accepted[before]!.closed);

    openEarlySocket(decoyConn());
    await until('the decoy to accept', () => accepted.length === before + 2);
    closeEarlySocket();
    await until('the unused socket to close', () => accepted[before + 1]!.closed);
    expect(accepted[before + 1]!.bytes).toBe(0);
  });

  it('is not handed over when it failed: the driver connects itself and reports the failure', async () => {
    const refused = { ...db.conn, host: '127.0.0.1', port: 1 } as ServerConnection;
    openEarlySocket(refused);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the refusal arrives
    expect(takeEarlySocket('127.0.0.1', 1)).toBeUndefined();
    openEarlySocket(refused);
    const sql = await openPool(refused, { max: 1, fetchTypes: false, connectTimeoutSeconds: 2 });
    try {
      await expect(sql`select 1`).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await sql.end({ timeout: 0 });
    }
  });
});

describe('when the CLI opens one', () => {
  it.each([
    [['health'], true],
    [['health', '--json'], true],
    [['--json', 'health', '--format', 'nagios'], true],
    [['--progress', 'none', 'health'], true],
    [['-d', 'postgres://x@127.0.0.1/x', 'health'], false],
    [['--database-url=postgres://x@127.0.0.1/x', 'health'], false],
    [['-qd', 'postgres://x@127.0.0.1/x', 'health'], false],
    [['health', '-d', 'postgres://x@127.0.0.1/x'], false],
    [['health', '--help'], false],
    [['help', 'health'], false],
    [['migrate', 'up'], false],
    [['hosts', 'health'], false],
    [['--', 'health'], false],
  ])('%j → %s', (args, expected) => {
    expect(wantsEarlyConnect(args as string[])).toBe(expected);
  });
});
