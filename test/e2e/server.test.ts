/**
 * `pgstore server`: the embedded server's life. What a process does runs the built binary:
 * `server start` (the server outlives it), `server stop`, the concurrent on-demand starts, and a
 * server stopped when the process it was started for is killed. Status, url, refusals and the
 * clean-up run the CLI's entry in-process (test/helpers/cli-in-process.ts: no node start-up each).
 * The life test's cluster is used again by the last test (one initdb less).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { freePort } from '../helpers/free-port.js';
import { processAlive } from '../../src/util/file-lock.js';

function processUid(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
}

describe('pgstore server', () => {
  const homes: string[] = [];
  const newHome = () => {
    const home = mkdtempSync(join(tmpdir(), 'pgstore-srv-'));
    homes.push(home);
    return home;
  };
  afterAll(async () => {
    for (const home of homes) {
      await runCliInProcess(['server', 'stop'], { env: cleanEnv({ PGSTORE_HOME: home }) });
      rmSync(home, { recursive: true, force: true });
    }
  });

  /** The life test's home once its server has stopped (an initialized cluster), else a new one. */
  let stoppedHome: string | undefined;

  it('start, status, url, stop: the whole life of the embedded server', async () => {
    const home = newHome();
    const env = cleanEnv({ PGSTORE_HOME: home, PGSTORE_PORT: String(await freePort()) });

    const before = await runCliInProcess(['server', 'status', '--json'], { env });
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ running: false, initialized: false });

    const start = await runCli(['server', 'start', '--json'], { env });
    expect(start.code, start.stderr).toBe(0);
    const status = JSON.parse(start.stdout);
    expect(status).toMatchObject({ running: true, initialized: true, version: '15' });
    expect(status.url).not.toMatch(/:[^@/]+@/); // no password in status

    // The password file is private; the server is not root.
    expect(statSync(join(home, 'password')).mode & 0o777).toBe(0o600);
    expect(processUid(status.pid)).not.toBe(0);

    const again = await runCliInProcess(['server', 'start'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already running/);

    const url = await runCliInProcess(['server', 'url'], { env });
    expect(url.code).toBe(0);
    expect(url.stdout.trim()).toMatch(/^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/pgstore\?sslmode=disable$/);

    // The URL works for another client: pgstore health through it.
    const health = await runCliInProcess(['health', '--json'], { env: cleanEnv({ DATABASE_URL: url.stdout.trim() }) });
    expect(health.code).toBe(0);

    const stop = await runCli(['server', 'stop'], { env });
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/Stopped/);
    expect(processAlive(status.pid)).toBe(false);
    const stopAgain = await runCliInProcess(['server', 'stop'], { env });
    expect(stopAgain.stdout).toMatch(/was not running/);
    stoppedHome = home;
  });

  it('a command that needs the database starts the server on demand, once, even when run concurrently', async () => {
    const home = newHome();
    const env = cleanEnv({ PGSTORE_HOME: home, PGSTORE_PORT: String(await freePort()) });
    // (Not `health`: it never starts the server, so that a monitor sees it down.)
    const runs = await Promise.all([1, 2, 3].map(() => runCli(['migrate', 'status', '--json'], { env })));
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).pending.length).toBeGreaterThan(0); // not migrated yet
    }
    const status = JSON.parse((await runCliInProcess(['server', 'status', '--json'], { env })).stdout);
    expect(status.running).toBe(true);
  });

  it('a busy port gets a clear error naming the port and how to choose another (exit 3)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    // The next port is taken too (when it can be): the hint must not suggest it.
    const next = createServer();
    const nextTaken = await new Promise<boolean>((resolve) => {
      next.once('error', () => resolve(false));
      next.listen(port + 1, '127.0.0.1', () => resolve(true));
    });
    try {
      const home = newHome();
      const result = await runCliInProcess(['server', 'start'], {
        env: cleanEnv({ PGSTORE_HOME: home, PGSTORE_PORT: String(port) }),
      });
      expect(result.code).toBe(3);
      // refused before anything was created: no cluster left behind
      expect(existsSync(join(home, 'data', 'PG_VERSION')) || existsSync(join(home, 'data'))).toBe(false);
      expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      const suggested = Number(/PGSTORE_PORT=(\d+)/.exec(result.stderr)?.[1]);
      expect(suggested).toBeGreaterThan(port);
      if (nextTaken) expect(suggested).toBeGreaterThan(port + 1);
    } finally {
      blocker.close();
      next.close();
    }
  });

  it('a server started for a process stops when that process is killed', async () => {
    const home = stoppedHome ?? newHome();
    const port = await freePort();
    const script = `
      const { ensureEmbedded } = await import(${JSON.stringify(new URL('../../dist/db/embedded.js', import.meta.url).href)});
      const target = { kind: 'embedded', source: 'embedded', home: ${JSON.stringify(home)}, port: ${port}, database: 'pgstore',
        pool: { max: 1, min: 1, acquireTimeoutSeconds: 30, idleTimeoutSeconds: 600 } };
      await ensureEmbedded(target, { stopWhenProcessDies: process.pid });
      console.log('ready');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()),
    );
    const env = cleanEnv({ PGSTORE_HOME: home, PGSTORE_PORT: String(port) });
    let status = { running: false, pid: 0 };
    try {
      status = JSON.parse((await runCliInProcess(['server', 'status', '--json'], { env })).stdout);
      expect(status.running).toBe(true);
    } finally {
      child.kill('SIGKILL'); // a failure above must not leave the child (and its server) running
    }
    const deadline = Date.now() + 10_000;
    while (processAlive(status.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(processAlive(status.pid)).toBe(false);
  });
});
