/**
 * initdb and pg_ctl for the embedded cluster. As root every program runs as the server
 * account (uid/gid), since PostgreSQL refuses to run as root.
 */
import { spawn } from 'node:child_process';
import { EmbeddedServerError } from '../errors.js';
import type { Account } from './accounts.js';
import type { PostgresBinaries } from './postgres-binaries.js';
import { childEnv, describeFailure, runTool } from './run.js';

export interface ClusterPaths {
  binaries: PostgresBinaries;
  dataDir: string;
  logFile: string;
  /** The unprivileged account to run as (only when pgstore runs as root). */
  account: Account | undefined;
}

function asAccount(account: Account | undefined): { uid?: number; gid?: number } {
  return account ? { uid: account.uid, gid: account.gid } : {};
}

/** Creates a new cluster with a scram-sha-256 superuser whose password is read from pwfile. */
export async function initCluster(paths: ClusterPaths, superuser: string, pwfile: string): Promise<void> {
  const args = [
    '-D',
    paths.dataDir,
    '-U',
    superuser,
    `--pwfile=${pwfile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C',
    '--no-instructions',
  ];
  const result = await runTool(paths.binaries.initdb, args, {
    ...asAccount(paths.account),
    env: { LC_ALL: 'C' },
    timeoutMs: 120_000,
    allowFailure: true,
    tailLines: 4,
  });
  if (result.failed) {
    throw new EmbeddedServerError(`could not create the embedded cluster: ${describeFailure('initdb', result)}`, {
      hint: `Check that ${paths.dataDir} is empty and writable${paths.account ? ` by ${paths.account.name}` : ''}.`,
    });
  }
}

/**
 * Starts the cluster and waits until it accepts connections. pg_ctl gets a log file (-l):
 * without one it hangs when its output is a pipe. It runs in its own session so that a
 * Ctrl+C aimed at pgstore does not stop the server.
 */
export async function startCluster(paths: ClusterPaths, port: number, timeoutSeconds = 60): Promise<void> {
  const result = await runTool(
    paths.binaries.pgCtl,
    ['start', '-w', '-t', String(timeoutSeconds), '-D', paths.dataDir, '-l', paths.logFile, '-o', `-p ${port}`],
    { ...asAccount(paths.account), detached: true, timeoutMs: (timeoutSeconds + 10) * 1000, allowFailure: true },
  );
  if (result.failed) {
    throw new EmbeddedServerError(`the embedded server did not start: ${describeFailure('pg_ctl', result)}`, {
      hint: `See the server log: ${paths.logFile}`,
    });
  }
}

/** Stops the cluster (fast: ends sessions, rolls back open transactions, checkpoints). */
export async function stopCluster(paths: ClusterPaths, mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
  const result = await runTool(paths.binaries.pgCtl, ['stop', '-w', '-t', '60', '-m', mode, '-D', paths.dataDir], {
    ...asAccount(paths.account),
    timeoutMs: 70_000,
    allowFailure: true,
  });
  if (result.failed && !/not running|no server running|does not exist/i.test(result.stderr + result.stdout)) {
    throw new EmbeddedServerError(`the embedded server did not stop: ${describeFailure('pg_ctl', result)}`, {
      hint: `See the server log: ${paths.logFile}`,
    });
  }
}

const REAPER = `
const [watch, pgCtl, dataDir] = process.argv.slice(1);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const timer = setInterval(() => {
  if (alive(Number(watch))) return;
  clearInterval(timer);
  require('node:child_process').spawnSync(pgCtl, ['stop', '-m', 'immediate', '-D', dataDir], { stdio: 'ignore' });
}, 500);
`;

/**
 * Starts a small watcher that stops the cluster when process `watchPid` dies, so a killed test
 * run does not leave a server behind.
 */
export function stopClusterWhenGone(paths: ClusterPaths, watchPid: number): void {
  const child = spawn(process.execPath, ['-e', REAPER, String(watchPid), paths.binaries.pgCtl, paths.dataDir], {
    ...asAccount(paths.account),
    detached: true,
    stdio: 'ignore',
    env: childEnv(),
  });
  child.unref();
}
