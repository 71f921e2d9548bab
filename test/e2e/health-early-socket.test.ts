/**
 * `pgstore health` opens its socket early (commands/early-connect.ts), but only to the target
 * the run uses: with -d naming the server, the environment's DATABASE_URL (here a listener that
 * only counts connections) is never connected to; and a run that stops before connecting (help,
 * a usage error) closes its early socket without writing on it.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
