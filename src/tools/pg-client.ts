/**
 * The system's PostgreSQL client programs (pg_dump, pg_restore, psql): found in
 * PGSTORE_PG_BIN, PATH or /usr/lib/postgresql/<major>/bin, and at least as new as the server.
 */
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ToolError } from '../errors.js';
import { runTool } from './run.js';

export type PgClientTool = 'pg_dump' | 'pg_restore' | 'psql' | 'pg_basebackup';

export interface PgClient {
  path: string;
  major: number;
  version: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every place a client program may be, in order of preference. */
export function candidatePaths(tool: PgClientTool, env: Record<string, string | undefined>): string[] {
  const dirs: string[] = [];
  if (env.PGSTORE_PG_BIN) dirs.push(env.PGSTORE_PG_BIN);
  dirs.push(...(env.PATH ?? '').split(delimiter).filter(Boolean));
  try {
    const majors = readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    dirs.push(...majors.map((m) => join('/usr/lib/postgresql', m, 'bin')));
  } catch {
    // no Debian-style installation
  }
  return [...new Set(dirs.map((d) => join(d, tool)))].filter(executable);
}

const cache = new Map<string, PgClient>();

/** The version a client program reports ("pg_dump (PostgreSQL) 15.18 (Debian ...)"). */
export async function clientVersion(path: string): Promise<PgClient> {
  const hit = cache.get(path);
  if (hit) return hit;
  const { stdout } = await runTool(path, ['--version'], { timeoutMs: 10_000 });
  const match = /(\d+)(?:\.(\d+))?/.exec(stdout.replace(/^[^)]*\)/, ''));
  const client = { path, major: Number(match?.[1] ?? 0), version: match ? match[0] : stdout.trim() };
  cache.set(path, client);
  return client;
}

/** Finds `tool` with a major version of at least `serverMajor`, or explains how to get one. */
export async function findPgClient(tool: PgClientTool, serverMajor: number, env: Record<string, string | undefined>): Promise<PgClient> {
  const found: PgClient[] = [];
  for (const path of candidatePaths(tool, env)) {
    const client = await clientVersion(path).catch(() => undefined);
    if (!client) continue;
    if (client.major >= serverMajor) return client;
    found.push(client);
  }
  const seen = found.length ? `found ${found.map((c) => `${c.path} (${c.version})`).join(', ')}` : `no ${tool} found`;
  throw new ToolError(`${tool} ${serverMajor} or newer is needed for a PostgreSQL ${serverMajor} server; ${seen}`, {
    hint: `Install the PostgreSQL ${serverMajor} client (Debian: apt-get install postgresql-client-${serverMajor}), or set PGSTORE_PG_BIN to its bin folder.`,
  });
}
