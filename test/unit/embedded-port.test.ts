/**
 * The embedded server's port check. Outside the start lock it only connects (a probe that binds
 * made a sibling's start see the port "in use"); under the lock it also binds, which finds a port
 * bound by another program that does not listen (connecting to it is refused, as to a free one).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { assertPortFree } from '../../src/db/embedded-port.js';
import { ConflictError } from '../../src/errors.js';
import { freePort } from '../helpers/free-port.js';

const python = spawnSync('python3', ['-c', 'pass']).status === 0;

describe('the embedded port check', () => {
  it('a listening program: busy, with a free port to suggest, with or without the bind', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      await expect(assertPortFree(port)).rejects.toBeInstanceOf(ConflictError);
      await expect(assertPortFree(port, { bind: true })).rejects.toMatchObject({
        hint: expect.stringMatching(/PGSTORE_PORT=\d+/),
      });
    } finally {
      server.close();
    }
  });

  it('a free port: free both ways', async () => {
    const port = await freePort();
    await expect(assertPortFree(port)).resolves.toBeUndefined();
    await expect(assertPortFree(port, { bind: true })).resolves.toBeUndefined();
  });

  // Node cannot bind a TCP port without listening; python3 (on the CI machine) can.
  it.runIf(python)('a port bound but not listening: the bind finds it busy', async () => {
    const port = await freePort();
    const holder = spawn('python3', [
      '-c',
      `import socket, sys, time\ns = socket.socket()\ns.bind(('127.0.0.1', ${port}))\nprint('bound', flush=True)\ntime.sleep(30)`,
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', () => reject(new Error('python3 did not bind')));
      });
      await expect(assertPortFree(port)).resolves.toBeUndefined(); // connecting is refused
      await expect(assertPortFree(port, { bind: true })).rejects.toBeInstanceOf(ConflictError);
    } finally {
      holder.kill();
    }
  });
});
