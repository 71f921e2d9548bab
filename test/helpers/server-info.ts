/** What the global setup tells the tests about the test server. */
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';

export interface TestServer {
  home: string;
  port: number;
  user: string;
  password: string;
  /** Superuser URL on the `postgres` database. */
  adminUrl: string;
}

/** The database every test database is copied from (migrated once by the global setup). */
export const TEMPLATE_DB = 'pgstore_template';

/**
 * Where the test servers keep their data: PGSTORE_TEST_SERVER_DIR, else /dev/shm (memory) when
 * there is one, else the temporary folder. A database is a few hundred files, and the suite
 * creates and drops hundreds of databases: on this machine's ext4 (no journal) each new file
 * costs a scan past recently deleted inodes (kernel: recently_deleted), which was most of the
 * server's CPU (CREATE DATABASE from the template: ~90-180 ms of server CPU on ext4, ~20 ms in
 * memory). The servers are thrown away after the run, so nothing is lost by keeping them in memory.
 */
export function serverDataRoot(): string {
  const chosen = process.env.PGSTORE_TEST_SERVER_DIR;
  if (chosen) return chosen;
  try {
    accessSync('/dev/shm', constants.W_OK | constants.X_OK);
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no /dev/shm (macOS) or not writable: the temporary folder
  }
  return tmpdir();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgServer: TestServer;
  }
}
