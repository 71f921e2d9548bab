/**
 * `pgstore server`: start, stop, status and url of the embedded PostgreSQL server.
 */
import { connectionUrl, type EmbeddedTarget } from '../../db/config.js';
import { embeddedConnection, embeddedStatus, ensureEmbedded, stopEmbedded } from '../../db/embedded.js';

/** The embedded server's target (resolved by the caller, db/config.ts), and the progress log. */
export interface ServerOptions {
  target: EmbeddedTarget;
  log?: ((message: string) => void) | undefined;
}

export interface ServerStatus {
  running: boolean;
  initialized: boolean;
  pid: number | null;
  port: number;
  home: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  version: string | null;
  uptimeSeconds: number | null;
  /** The connection URL, password masked. */
  url: string | null;
}

/** Reports whether the embedded server runs, and where its files are. */
export function serverStatus(options: ServerOptions): ServerStatus {
  const { target } = options;
  const status = embeddedStatus(target);
  const port = status.port ?? target.port;
  return {
    running: status.running,
    initialized: status.initialized,
    pid: status.pid ?? null,
    port,
    home: status.home,
    dataDir: status.dataDir,
    socketDir: status.socketDir,
    logFile: status.logFile,
    version: status.dataVersion ?? null,
    uptimeSeconds: status.uptimeSeconds ?? null,
    url: status.running ? connectionUrl(embeddedConnection(target, port), false) : null,
  };
}

/** Starts the embedded server (creating it on first use); reports whether it was already up. */
export async function startServer(options: ServerOptions): Promise<{ alreadyRunning: boolean; status: ServerStatus }> {
  const { target } = options;
  const alreadyRunning = embeddedStatus(target).running;
  await ensureEmbedded(target, { log: options.log });
  return { alreadyRunning, status: serverStatus(options) };
}

/** Stops the embedded server; reports whether it was running. */
export async function stopServer(options: ServerOptions): Promise<{ wasRunning: boolean }> {
  const wasRunning = await stopEmbedded(options.target);
  return { wasRunning };
}

/** A connection URL for the embedded server, with its password, usable by psql (starts it if needed). */
export async function serverUrl(options: ServerOptions): Promise<string> {
  const conn = await ensureEmbedded(options.target, { log: options.log });
  return connectionUrl(conn, true);
}
