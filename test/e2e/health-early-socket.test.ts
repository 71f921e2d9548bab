/**
 * `pgstore health` opens its socket early (commands/early-connect.ts), but only to the target
 * the run uses: with -d naming the server, the environment's DATABASE_URL (here a listener that
 * only counts connections) is never connected to; and a run that stops before connecting (help,
 * a usage error) closes its early socket without writing on it.
 */
import { connect, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let listener: Server;
const seen: Array<{ bytes: number; closed: boolean }> = [];
let url = '';
beforeAll(async () => {
  listener = createServer((socket) => {
    const entry = { bytes: 0, closed: false };
    seen.push(entry);
    socket.on('data', (chunk) => {
      entry.bytes += chunk.length;
    });
    socket.on('close', () => {
      entry.closed = true;
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  url = `postgres://nobody:secret@127.0.0.1:${(listener.address() as { port: number }).port}/nothing?sslmode=disable`;
});
afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

describe('health connects early only to its own target', () => {
  it('with -d, the environment’s DATABASE_URL is never connected to', async () => {
    const before = seen.length;
    const result = await runCli(['-d', db.url, 'health', '--json'], { env: cleanEnv({ DATABASE_URL: url }) });
    expect(JSON.parse(result.stdout).checks[0].status).toBe('ok');
    expect(seen.length).toBe(before);
  });

  it('a run that stops before connecting closes its early socket unused', async () => {
    const before = seen.length;
    const help = await runCli(['health', '--help'], { env: cleanEnv({ DATABASE_URL: url }) });
    expect(help.code).toBe(0);
    const usage = await runCli(['health', '--timeout', 'soon'], { env: cleanEnv({ DATABASE_URL: url }) });
    expect(usage.code).toBe(2);
    // --help opens none; the usage error's run opened one (the target was certain) and closed it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.slice(before).every((s) => s.closed && s.bytes === 0)).toBe(true);
    expect(seen.length - before).toBeLessThanOrEqual(1);
  });
});

describe('an IPv6 address', () => {
  it('health reaches [::1] itself, on the socket it opened early, never localhost', async () => {
    // A proxy on ::1 to the test server, and a trap on 127.0.0.1 at the same port: the driver
    // once split '::1' at ':' and connected to '' (localhost), another server than the URL's.
    const server = inject('pgServer');
    const counts = { proxy: 0, trap: 0 };
    const proxy = createServer((client) => {
      counts.proxy++;
      const upstream = connect(server.port, '127.0.0.1');
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '::1', resolve));
    const port = (proxy.address() as { port: number }).port;
    const trap = createServer((socket) => {
      counts.trap++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(port, '127.0.0.1', resolve));
    try {
      const v6 = `postgres://${server.user}:${encodeURIComponent(server.password)}@[::1]:${port}/${db.name}?sslmode=disable`;
      const early = await runCli(['health', '--json'], { env: cleanEnv({ DATABASE_URL: v6 }) });
      // Connected (a busy machine may make the latency a warning).
      expect(JSON.parse(early.stdout).checks[0].status).not.toBe('critical');
      const earlyConnections = counts.proxy;
      counts.proxy = 0;
      const flag = await runCli(['-d', v6, 'health', '--json'], { env: cleanEnv() });
      expect(JSON.parse(flag.stdout).checks[0].status).not.toBe('critical');
      // The early socket was the one used: no more connections than a run without it.
      expect(earlyConnections).toBe(counts.proxy);
      expect(counts.trap).toBe(0);
    } finally {
      await Promise.all([proxy, trap].map((s) => new Promise((resolve) => s.close(resolve))));
    }
  });
});
