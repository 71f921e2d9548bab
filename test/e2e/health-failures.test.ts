/**
 * `pgstore health` when something is wrong: exit codes, reports, formats and thresholds.
 * The cases run the CLI's entry in-process (test/helpers/cli-in-process.ts: same parsing,
 * output and exit codes, no node start-up each); the stopped embedded server and the nagios format run through the built binary.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { adminUrlFor, useTestDatabase } from '../helpers/db.js';
import { pastEndOfLife } from '../helpers/server-version.js';

/** Round-trip limits no busy test machine reaches (the thresholds have tests of their own). */
const RELAXED_LATENCY = ['--latency-warning', '10000', '--latency-critical', '20000'];

interface Report {
  status: string;
  checks: Array<{ name: string; status: string; message: string; value: unknown }>;
  durationMs: number;
}

async function health(url: string, extra: string[] = []) {
  const result = await runCliInProcess(['health', '--json', ...extra], { env: cleanEnv({ DATABASE_URL: url }) });
  return { ...result, report: JSON.parse(result.stdout || 'null') as Report };
}

describe('pgstore health when something is wrong', () => {
  const db = useTestDatabase();
  let silent: Server;
  let silentPort = 0;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts TCP connections and never answers: a hung server.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('an unreachable server is critical (exit 1) with a clear message', async () => {
    const { code, report } = await health('postgres://someone:pw@127.0.0.1:1/app');
    expect(code).toBe(1);
    expect(report.status).toBe('critical');
    expect(report.checks[0]).toMatchObject({ name: 'connection', status: 'critical' });
    expect(report.checks[0]!.message).toMatch(/connection refused/);
  });

  it('never starts a stopped embedded server: a monitor sees it down', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pgstore-health-home-'));
    try {
      const result = await runCli(['health', '--json'], { env: cleanEnv({ PGSTORE_HOME: home, PGSTORE_PORT: '1' }) });
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout);
      expect(report.checks[0]).toMatchObject({ name: 'connection', status: 'critical' });
      expect(report.checks[0].message).toMatch(/the embedded server is not running/);
      expect(readdirSync(home)).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('--format nagios: what stops the check itself is UNKNOWN (3) with one line on stdout', async () => {
    for (const [args, env, text] of [
      [['--bogus'], { DATABASE_URL: db.url }, /^PGSTORE UNKNOWN - unknown option '--bogus'\n$/],
      [['--timeout', 'abc'], { DATABASE_URL: db.url }, /^PGSTORE UNKNOWN - .*--timeout.*\n$/],
      [[], { DATABASE_URL: 'not a url' }, /^PGSTORE UNKNOWN - .+\n$/],
    ] as const) {
      const r = await runCliInProcess(['health', '--format', 'nagios', ...args], { env: cleanEnv(env) });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(3);
      expect(r.stdout).toMatch(text);
      expect(r.stderr).toMatch(/^error: .*\nhint: /);
    }
    // Without nagios, the same mistake is pgstore's usage error.
    expect((await runCliInProcess(['health', '--bogus'], { env: cleanEnv({ DATABASE_URL: db.url }) })).code).toBe(2);
  });

  it('refuses thresholds in the wrong order and a zero timeout (exit 2)', async () => {
    for (const [args, text] of [
      [
        ['--connections-warning', '90', '--connections-critical', '80'],
        /--connections-critical \(80\) must be at least --connections-warning \(90\)/,
      ],
      [['--disk-free-critical', '20'], /--disk-free-critical \(20\) must be at most --disk-free-warning \(10\)/],
      [['--timeout', '0'], /--timeout must be a number > 0, got '0'/],
    ] as const) {
      const r = await runCliInProcess(['health', ...args], { env: cleanEnv({ DATABASE_URL: db.url }) });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(text);
    }
  });

  it('a wrong password is critical, and the password is never shown', async () => {
    const url = new URL(db.url);
    url.password = 'wrong-secret-123';
    const { code, report, stdout, stderr } = await health(url.toString());
    expect(code).toBe(1);
    expect(report.checks[0]!.message).toMatch(/password authentication failed/);
    expect(stdout + stderr).not.toContain('wrong-secret-123');
  });

  it('a missing database is critical and named', async () => {
    const { code, report } = await health(adminUrlFor('no_such_db'));
    expect(code).toBe(1);
    expect(report.checks[0]!.message).toMatch(/database 'no_such_db' does not exist/);
  });

  it('a server that never answers is critical within the timeout', async () => {
    const started = Date.now();
    const { code, report } = await health(`postgres://u:p@127.0.0.1:${silentPort}/x`, ['--timeout', '1']);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(code).toBe(1);
    expect(report.checks[0]!.status).toBe('critical');
    expect(report.checks[0]!.message).toMatch(/timed out|no answer within 1 s/);
  });

  it('thresholds come from flags: a critical connections limit makes the run critical', async () => {
    const { code, report } = await health(db.url, ['--connections-warning', '0', '--connections-critical', '0']);
    expect(code).toBe(1);
    expect(report.checks.find((c) => c.name === 'connections')!.status).toBe('critical');
  });

  it('--format nagios prints one line with perfdata and uses Nagios exit codes', async () => {
    // Latency limits no busy test machine reaches: this test is about the format and exit codes.
    const ok = await runCli(['health', '--format', 'nagios', ...RELAXED_LATENCY], {
      env: cleanEnv({ DATABASE_URL: db.url }),
    });
    const eol = await pastEndOfLife(db.url);
    expect(ok.code).toBe(eol ? 1 : 0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(1);
    expect(ok.stdout).toMatch(
      eol
        ? /^PGSTORE WARNING - server_version: PostgreSQL .* past end of life.* \| connection=[\d.]+ms /
        : /^PGSTORE OK - \d+ checks ok \| connection=[\d.]+ms .*connections=[\d.]+%/,
    );

    const warn = await runCliInProcess(
      ['health', '--format', 'nagios', '--connections-warning', '0', ...RELAXED_LATENCY],
      {
        env: cleanEnv({ DATABASE_URL: db.url }),
      },
    );
    expect(warn.code).toBe(1);
    expect(warn.stdout).toMatch(/^PGSTORE WARNING - (server_version: .* plan an upgrade; )?connections: /);

    const down = await runCliInProcess(['health', '--format', 'nagios'], {
      env: cleanEnv({ DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x' }),
    });
    expect(down.code).toBe(2);
    expect(down.stdout).toMatch(/^PGSTORE CRITICAL - connection: /);
  });

  it('--quiet prints nothing when healthy; the table is shown when not', async () => {
    const quiet = await runCliInProcess(['health', '--quiet', ...RELAXED_LATENCY], {
      env: cleanEnv({ DATABASE_URL: db.url }),
    });
    expect(quiet.code).toBe(0);
    // A server past its end of life (PostgreSQL 14 in the version matrix) is a warning: shown.
    if (await pastEndOfLife(db.url)) expect(quiet.stdout).toMatch(/server_version[\s\S]*past end of life/);
    else expect(quiet.stdout + quiet.stderr).toBe('');
    const table = await runCliInProcess(['health'], { env: cleanEnv({ DATABASE_URL: db.url }) });
    expect(table.stdout).toMatch(/CHECK\s+│\s+STATUS/);
    expect(table.stdout).not.toMatch(/\u001b\[/); // NO_COLOR is set by cleanEnv
  });

  it('colour can be forced on a pipe, and --no-color wins over it', async () => {
    const coloured = await runCliInProcess(['health'], {
      env: cleanEnv({ DATABASE_URL: db.url, NO_COLOR: undefined, FORCE_COLOR: '1' }),
    });
    expect(coloured.stdout).toMatch(/\u001b\[/);
    const plain = await runCliInProcess(['health', '--no-color'], {
      env: cleanEnv({ DATABASE_URL: db.url, NO_COLOR: undefined, FORCE_COLOR: '1' }),
    });
    expect(plain.stdout).not.toMatch(/\u001b\[/);
  });
});
