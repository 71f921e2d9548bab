/**
 * Every wait is bounded: a port that answers but is not PostgreSQL. Whatever listens there (an
 * HTTP server answering 400 and closing, a silent one, one that resets, one that sends a
 * well-framed but wrong first message, one that closes at once), each command ends within its
 * connect timeout with one line and a hint, exit 1, after a bounded number of connections.
 * postgres.js alone reconnected for good on a clean close during startup (db/startup-guard.ts).
 * The commands run the CLI's entry in-process (test/helpers/cli-in-process.ts: same parsing,
 * output and exit codes, no node start-up each); one per kind runs the built binary, whose
 * process must also end (nothing left open that keeps node alive).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { closeListeners, EXPECTED, type Kind, KINDS, type Listener, listen, urlOf } from '../helpers/not-postgres.js';

const TIMEOUT_S = 1;
/** Node's start-up on a loaded machine (the binary's run): what "within its timeout" allows on top. */
const MARGIN_MS = 3_000;
const MAX_CONNECTIONS = 5;
const COMMANDS: string[][] = [
  ['hosts', 'list'],
  ['migrate', 'status'],
  ['backup'],
  ['seed'],
  ['setup'],
  ['snapshot', 'list'],
];

describe('a port that is not PostgreSQL', () => {
  const listeners = new Map<Kind, Listener>();
  let home: string;

  beforeAll(async () => {
    for (const kind of KINDS) listeners.set(kind, await listen(kind));
    home = mkdtempSync(join(tmpdir(), 'pgstore-notpg-'));
  });
  afterAll(async () => {
    await closeListeners(listeners.values());
    rmSync(home, { recursive: true, force: true });
  });

  const env = (url: string) => cleanEnv({ DATABASE_URL: url, PGSTORE_HOME: home, PGSTORE_BACKUP_DIR: home });

  it('every command ends within its timeout with one line and a hint, exit 1, after a few connections', async () => {
    const failures: string[] = [];
    for (const kind of KINDS) {
      const l = listeners.get(kind)!;
      const before = l.connections;
      // The commands on one kind run together; half of them without TLS, where the driver's
      // first message is the startup rather than SSLRequest.
      const runs = COMMANDS.map(async (args, i) => {
        const started = Date.now();
        const r = await (i === 0 ? runCli : runCliInProcess)(args, {
          env: env(urlOf(l, TIMEOUT_S, i % 2 ? '&sslmode=disable' : '')),
          timeoutMs: 10_000,
        });
        const ms = Date.now() - started;
        const lines = r.stderr.trim().split('\n');
        const problems: string[] = [];
        if (r.code !== 1) problems.push(`exit ${r.code ?? r.signal}`);
        if (ms > TIMEOUT_S * 1000 + MARGIN_MS) problems.push(`took ${ms} ms`);
        if (lines.length !== 2 || !lines[0]!.startsWith('error: ') || !lines[1]!.startsWith('hint: '))
          problems.push(`stderr ${JSON.stringify(r.stderr.slice(0, 200))}`);
        else if (!EXPECTED[kind].test(lines[0]!)) problems.push(`message ${lines[0]}`);
        return problems.length ? `${kind} ${args.join(' ')}: ${problems.join('; ')}` : null;
      });
      for (const r of await Promise.all(runs)) if (r !== null) failures.push(r);
      if (l.connections - before > MAX_CONNECTIONS * COMMANDS.length)
        failures.push(`${kind}: ${l.connections - before} connections for ${COMMANDS.length} commands`);
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('health --json ends within its --timeout: critical, exit 1, the reason in the report', async () => {
    for (const kind of KINDS) {
      const l = listeners.get(kind)!;
      const before = l.connections;
      const started = Date.now();
      const r = await runCliInProcess(['health', '--json', '--timeout', String(TIMEOUT_S)], {
        env: env(urlOf(l, TIMEOUT_S)),
        timeoutMs: 10_000,
      });
      expect(r.code, kind).toBe(1);
      expect(Date.now() - started, kind).toBeLessThan(TIMEOUT_S * 1000 + MARGIN_MS);
      const report = JSON.parse(r.stdout) as { checks: Array<{ name: string; message: string }> };
      expect(report.checks[0]!.name).toBe('connection');
      // A silent server is health's own "no answer within 1 s".
      if (kind !== 'silent') expect(report.checks[0]!.message, kind).toMatch(EXPECTED[kind]);
      expect(l.connections - before, kind).toBeLessThanOrEqual(MAX_CONNECTIONS);
    }
  }, 60_000);
});
