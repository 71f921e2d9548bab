/**
 * `hosts list --replica` and `snapshot list --replica` against the real
 * primary + standby: the replica answers (a paused standby misses the newest entry), the
 * primary is not even connected when the replica answers, a replica that is down falls back
 * with one line on stderr, and --replica without any URL is a usage error. The cases run the
 * CLI's entry in-process (test/helpers/cli-in-process.ts); the first read on the replica runs
 * the built binary.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreOptions } from '../helpers/core-options.js';
import { migrateUp } from '../../src/core/migrate/index.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { type StandbyPair, standbyPair } from '../helpers/standby.js';

let pair: StandbyPair;
let primaryUrl: string;
let standbyUrl: string;
const database = `replica_cli_${process.pid}`;

beforeAll(async () => {
  pair = await standbyPair();
  await pair.primary.unsafe(`drop database if exists ${database} with (force)`);
  await pair.primary.unsafe(`create database ${database}`);
  await migrateUp(coreOptions(pair.urlFor('primary', database)));
  primaryUrl = pair.urlFor('primary', database);
  standbyUrl = pair.urlFor('standby', database);
});
afterAll(async () => {
  await pair?.primary.unsafe(`drop database if exists ${database} with (force)`);
});

const pgstore = (args: string[], env: Record<string, string> = {}, run = runCliInProcess) =>
  run(args, { env: cleanEnv({ DATABASE_URL: primaryUrl, ...env }) });
const ips = (stdout: string) => (JSON.parse(stdout) as Array<{ ipAddress: string }>).map((e) => e.ipAddress);

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('read commands with --replica', () => {
  it('hosts list reads on the replica (the primary is not needed), DATABASE_REPLICA_URL or a URL', async () => {
    expect((await pgstore(['hosts', 'add', '--ip', '10.0.0.1', '--hostname', 'one.lan'])).code).toBe(0);
    await pair.waitForReplay();
    const viaUrl = await pgstore(['hosts', 'list', '--json', '--replica', standbyUrl], {}, runCli);
    expect(viaUrl.stderr).toBe('');
    expect(ips(viaUrl.stdout)).toEqual(['10.0.0.1']);
    const viaEnv = await pgstore(['hosts', 'list', '--json', '--replica'], { DATABASE_REPLICA_URL: standbyUrl });
    expect(ips(viaEnv.stdout)).toEqual(['10.0.0.1']);
    // A primary that does not answer does not matter when the replica does.
    const noPrimary = await runCliInProcess(['hosts', 'list', '--json', '--replica', standbyUrl], {
      env: cleanEnv({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/x` }),
    });
    expect(noPrimary.code).toBe(0);
    expect(ips(noPrimary.stdout)).toEqual(['10.0.0.1']);

    await pair.withReplayPaused(async () => {
      expect((await pgstore(['hosts', 'add', '--ip', '10.0.0.2', '--hostname', 'two.lan'])).code).toBe(0);
      expect(ips((await pgstore(['hosts', 'list', '--json', '--replica', standbyUrl])).stdout)).toEqual(['10.0.0.1']);
      expect(ips((await pgstore(['hosts', 'list', '--json'])).stdout)).toEqual(['10.0.0.1', '10.0.0.2']);
    });
  });

  it('a table page counts its total on the replica too', async () => {
    await pair.waitForReplay();
    const page = await pgstore(['hosts', 'list', '--limit', '1', '--replica', standbyUrl]);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout.trimEnd().split('\n').at(-1)).toBe('1 of 2 entries');
  });

  it('snapshot list reads on the replica too', async () => {
    expect((await pgstore(['snapshot', 'create', '--name', 'replicated'])).code).toBe(0);
    await pair.waitForReplay();
    const listed = await pgstore(['snapshot', 'list', '--json', '--replica', standbyUrl]);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ name: string }>).map((s) => s.name)).toContain('replicated');
  });

  it('a replica that is down: the primary answers, one line on stderr says why', async () => {
    const down = `postgres://postgres@127.0.0.1:${await closedPort()}/${database}?sslmode=disable`;
    const result = await pgstore(['hosts', 'list', '--format', 'hosts', '--replica', down]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^10\.0\.0\.1\s+one\.lan$/m);
    expect(result.stderr.trim()).toMatch(
      /^The replica \(127\.0\.0\.1:\d+\) could not answer \(down\): read from the primary\.$/,
    );
  });

  it('--replica without a URL and without DATABASE_REPLICA_URL: exit 2, one line and a hint', async () => {
    const result = await pgstore(['snapshot', 'list', '--replica']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--replica needs a URL, or DATABASE_REPLICA_URL set/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
    const bad = await pgstore(['hosts', 'list', '--replica', 'mysql://nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--replica/);
  });
});
