/**
 * The package's binary, bin/pgstore (a POSIX sh launcher in front of bin/pgstore.js): it runs
 * through npm's symlinks, passes arguments and exit codes through, starts Node without
 * NODE_EXTRA_CA_CERTS while every child still sees it, and a connection that verifies the
 * server's certificate trusts that file as Node itself would (README, "Installation").
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverAccount } from '../../src/db/embedded.js';
import { BIN, type CliResult, cleanEnv } from '../helpers/cli.js';
import { type PrivateServer, startPrivateServer } from '../helpers/private-server.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAUNCHER = join(ROOT, 'bin', 'pgstore');

/** Runs `program args...` (the launcher, or node with bin/pgstore.js) with `env`. */
function run(program: string[], args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program[0]!, [...program.slice(1), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `url` with sslmode=`mode`, and host `host` when given. */
function withSslmode(url: string, mode: string, host?: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('sslmode', mode);
  if (host) parsed.hostname = host;
  return parsed.toString();
}

let dir: string;
/** node_modules/.bin/pgstore -> ../pgstore/bin/pgstore, with node_modules/pgstore -> the repository. */
let npmLink: string;
let server: PrivateServer;
let certs: TestCertificates;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pgstore-launcher-'));
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'pgstore'));
  npmLink = join(dir, 'node_modules', '.bin', 'pgstore');
  symlinkSync('../pgstore/bin/pgstore', npmLink);
  certs = makeTestCertificates(['DNS:localhost'], serverAccount(process.env));
  server = await startPrivateServer({ settings: certs.settings });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the launcher', () => {
  it('runs through symlinks in other folders, as npm links it', async () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    const result = await run([npmLink], ['--version'], cleanEnv());
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    // `npm install -g`: an absolute symlink in the global bin folder.
    const globalBin = join(dir, 'global-bin');
    mkdirSync(globalBin);
    symlinkSync(LAUNCHER, join(globalBin, 'pgstore'));
    const global = await run([join(globalBin, 'pgstore')], ['--version'], cleanEnv());
    expect(global).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('passes arguments with spaces and quotes intact, and the exit code and output of a failure', async () => {
    const name = `it's a "name"  with\ttwo  spaces`;
    const env = cleanEnv({ NODE_EXTRA_CA_CERTS: certs.caFile });
    const launched = await run([npmLink], [name], env);
    expect(launched.code).toBe(2);
    expect(launched.stderr).toMatch(/^error: unknown command 'it's a "name" {2}with\ttwo {2}spaces' for 'pgstore'\n/);
    expect(launched).toEqual(await run([process.execPath, BIN], [name], env));
  });

  it('is replaced by node (exec): SIGTERM sent to it reaches pgstore', async () => {
    // A port that accepts and never answers: health waits for the server's reply.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const connected = once(silent, 'connection');
    try {
      const port = (silent.address() as AddressInfo).port;
      const env = cleanEnv({ DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/nothing?sslmode=disable` });
      const child = spawn(npmLink, ['health', '--json', '--timeout', '30'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const closed = once(child, 'close');
      await connected;
      child.kill('SIGTERM');
      const [code, signal] = await closed;
      expect({ code, signal }).toEqual({ code: 143, signal: null });
      expect(stderr).toContain('Stopped by SIGTERM.');
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('the programs pgstore runs see NODE_EXTRA_CA_CERTS as the user set it', async () => {
    // pg_dump from PGSTORE_PG_BIN (the user's choice of client programs) notes what it sees.
    const bin = join(dir, 'pg-bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'pg_dump'),
      [
        '#!/bin/sh',
        `printf '%s|%s\\n' "\${NODE_EXTRA_CA_CERTS-unset}" "\${PGSTORE_EXTRA_CA_CERTS-unset}" >> '${bin}/seen'`,
        '[ "$1" = --version ] && echo "pg_dump (PostgreSQL) 99.0" && exit 0',
        'echo "pg_dump: error: not a real one" >&2; exit 1',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const env = cleanEnv({
      NODE_EXTRA_CA_CERTS: certs.caFile,
      PGSTORE_PG_BIN: bin,
      DATABASE_URL: withSslmode(server.url, 'disable'),
      PGSTORE_BACKUP_DIR: join(dir, 'backups'),
    });
    const result = await run([npmLink], ['backup'], env);
    expect(result.code, result.stderr).toBe(1);
    const seen = readFileSync(join(bin, 'seen'), 'utf8').trim().split('\n');
    expect(seen.length).toBeGreaterThanOrEqual(2); // --version, then the dump
    expect(new Set(seen)).toEqual(new Set([`${certs.caFile}|unset`]));
  });
});

describe('a connection that verifies the server, with the CA in NODE_EXTRA_CA_CERTS', () => {
  /** health --json's connection check, by the launcher and by node with bin/pgstore.js. */
  async function health(url: string, extra: Record<string, string | undefined>) {
    const env = cleanEnv({ DATABASE_URL: url, ...extra });
    const [launched, direct] = await Promise.all([
      run([npmLink], ['health', '--json'], env),
      run([process.execPath, BIN], ['health', '--json'], env),
    ]);
    const connection = (r: CliResult) =>
      (JSON.parse(r.stdout) as { checks: Array<{ name: string; status: string; message?: string }> }).checks.find(
        (c) => c.name === 'connection',
      );
    return { launched, direct, connection: connection(launched), directConnection: connection(direct) };
  }

  // The server's certificate names localhost only: the name check is verify-full's, as before.
  it('verify-full connects when the variable names the CA, through the launcher as through node', async () => {
    const h = await health(withSslmode(server.url, 'verify-full', 'localhost'), { NODE_EXTRA_CA_CERTS: certs.caFile });
    expect(h.connection?.status, h.launched.stdout).toBe('ok');
    expect(h.directConnection?.status, h.direct.stdout).toBe('ok');
    expect(h.launched.code).toBe(h.direct.code);
    expect(h.launched.stderr).toBe('');
  });

  it('verify-ca connects by an address the certificate does not name (it checks the CA only)', async () => {
    const h = await health(withSslmode(server.url, 'verify-ca', '127.0.0.1'), { NODE_EXTRA_CA_CERTS: certs.caFile });
    expect(h.connection?.status, h.launched.stdout).toBe('ok');
    expect(h.directConnection?.status, h.direct.stdout).toBe('ok');
  });

  it('verify-full by an address the certificate does not name is refused (it was checked against localhost)', async () => {
    const h = await health(withSslmode(server.url, 'verify-full', '127.0.0.1'), { NODE_EXTRA_CA_CERTS: certs.caFile });
    expect(h.connection?.status, h.launched.stdout).toBe('critical');
    expect(h.connection?.message).toMatch(
      /^cannot connect to 127\.0\.0\.1:\d+: the server's certificate is not for '127\.0\.0\.1' \(sslmode=verify-full\)$/,
    );
    expect(h.connection?.message).toBe(h.directConnection?.message);
  });

  it('without the variable the certificate is refused, with the same one-line error either way', async () => {
    const h = await health(withSslmode(server.url, 'verify-full', 'localhost'), { NODE_EXTRA_CA_CERTS: undefined });
    expect(h.connection?.status).toBe('critical');
    expect(h.connection?.message).toMatch(
      /^cannot connect to localhost:\d+: the server's certificate is not trusted \(unable to verify the first certificate\)$/,
    );
    expect(h.connection?.message).toBe(h.directConnection?.message);
    expect(h.launched.code).toBe(h.direct.code);
  });

  it('a missing CA file: a one-line warning, and the certificate refused as Node refuses it', async () => {
    const missing = join(dir, 'no-such-ca.pem');
    const h = await health(withSslmode(server.url, 'verify-full', 'localhost'), { NODE_EXTRA_CA_CERTS: missing });
    expect(h.connection?.status).toBe('critical');
    expect(h.connection?.message).toBe(h.directConnection?.message);
    expect(h.launched.stderr).toMatch(new RegExp(`^warning: ignoring extra certs from \`${missing}\`[^\\n]*\\n$`));
    expect(h.direct.stderr).toMatch(/^Warning: Ignoring extra certs from/); // Node's own
  });
});
