/**
 * pgBackRest: the only place pgstore runs it. Every call is bounded (a timeout), without a
 * shell, with the configuration file pgstore wrote (`--config`), and as the account that owns
 * the cluster's data folder when pgstore runs as root. The database password reaches it (and
 * libpq inside it) through PGPASSWORD in its environment, never its argv. Of its output, only
 * `info --output=json` is read; other commands are judged by their exit code, and their
 * stderr tail goes into the error.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ToolError } from '../errors.js';
import type { Account } from './accounts.js';
import { describeFailure, runTool } from './run.js';

export interface Pgbackrest {
  /** The program. */
  path: string;
  /** pgbackrest.conf written by pgstore. */
  config: string;
  stanza: string;
  /** Run as this account (root only: the owner of the data folder). */
  account: Account | undefined;
  /** The database password, for libpq inside pgBackRest (environment only). */
  password: string | undefined;
}

/** pgbackrest from PGSTORE_PGBACKREST, PATH or /usr/bin, or a ToolError saying how to install it. */
export function findPgbackrest(env: Record<string, string | undefined>): string {
  const candidates = [
    env.PGSTORE_PGBACKREST,
    ...(env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, 'pgbackrest')),
    '/usr/bin/pgbackrest',
  ];
  for (const path of candidates) {
    if (!path) continue;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // next
    }
  }
  throw new ToolError('pgbackrest is not installed (needed for --engine pgbackrest)', {
    hint: 'Install it (Debian: apt-get install pgbackrest), or set PGSTORE_PGBACKREST to the program.',
  });
}

/** The environment pgBackRest gets: no PGBACKREST_* of the caller's (only the file applies), the password for libpq. */
function pgbackrestEnv(password: string | undefined): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env)) if (key.startsWith('PGBACKREST_')) env[key] = undefined;
  env.PGPASSWORD = password;
  return env;
}

export interface PgbackrestRun {
  /** Extra options, e.g. `--type=full`. */
  options?: string[];
  timeoutMs: number;
}

/** Runs `pgbackrest --config=... --stanza=... <options> <command>`; throws a ToolError naming the command on failure. */
export async function runPgbackrest(br: Pgbackrest, command: string, run: PgbackrestRun): Promise<void> {
  const args = [`--config=${br.config}`, `--stanza=${br.stanza}`, ...(run.options ?? []), command];
  const result = await runTool(br.path, args, {
    env: pgbackrestEnv(br.password),
    uid: br.account?.uid,
    gid: br.account?.gid,
    timeoutMs: run.timeoutMs,
    allowFailure: true,
    tailLines: 4,
  });
  if (result.failed)
    throw new ToolError(describeFailure(`pgbackrest ${command}`, result, { timeoutMs: run.timeoutMs, tailLines: 4 }));
}

/** One backup as `pgbackrest info --output=json` describes it (the fields pgstore reads). */
export interface PgbackrestBackupInfo {
  label: string;
  type: 'full' | 'diff' | 'incr';
  /** Unix seconds. */
  timestamp: { start: number; stop: number };
  info: { size: number; delta: number; repository: { size: number; delta: number } };
  archive: { start: string | null; stop: string | null };
  prior: string | null;
  error?: boolean;
}

export interface PgbackrestStanzaInfo {
  name: string;
  /** 0 ok, 1 missing stanza path, 2 no valid backups, 3 missing stanza data, ... */
  status: { code: number; message: string };
  backup: PgbackrestBackupInfo[];
  archive: Array<{ id: string; min: string | null; max: string | null }>;
  /** The clusters the stanza was created (or upgraded) for; the highest id is the current one. */
  db: Array<{ id: number; 'system-id': string; version: string }>;
}

/** `pgbackrest info --output=json` for the stanza (an empty list when the stanza does not exist yet). */
export async function pgbackrestInfo(br: Pgbackrest, timeoutMs = 30_000): Promise<PgbackrestStanzaInfo | undefined> {
  const args = [`--config=${br.config}`, `--stanza=${br.stanza}`, '--output=json', 'info'];
  const result = await runTool(br.path, args, {
    env: pgbackrestEnv(br.password),
    uid: br.account?.uid,
    gid: br.account?.gid,
    timeoutMs,
    allowFailure: true,
    tailLines: 4,
  });
  if (result.failed) throw new ToolError(describeFailure('pgbackrest info', result, { timeoutMs, tailLines: 4 }));
  let parsed: unknown;
  try {
    // A system identifier is a 64-bit number, past what a JSON number keeps exactly: a string.
    parsed = JSON.parse(result.stdout.replace(/"system-id":(\d+)/g, '"system-id":"$1"'));
  } catch {
    throw new ToolError(`pgbackrest info printed something that is not JSON: ${result.stdout.slice(0, 120)}`);
  }
  if (!Array.isArray(parsed)) throw new ToolError('pgbackrest info --output=json did not print a list of stanzas');
  const stanza = (parsed as PgbackrestStanzaInfo[]).find((s) => s.name === br.stanza);
  if (!stanza) return undefined;
  return {
    ...stanza,
    backup: Array.isArray(stanza.backup) ? stanza.backup : [],
    archive: Array.isArray(stanza.archive) ? stanza.archive : [],
    db: Array.isArray(stanza.db) ? stanza.db : [],
  };
}
