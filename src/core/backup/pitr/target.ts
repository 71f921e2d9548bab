/**
 * Where a point-in-time restore goes: a new, empty data folder (never the running cluster's)
 * and a port of its own, and the time to stop at, checked before anything is restored.
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { ConfigError, ConflictError, UsageError } from '../../../errors.js';
import { type Account, firstUnreachable } from '../../../tools/accounts.js';
import { makeDirs } from '../../../util/make-dirs.js';
import { ownedFolder } from '../pgbackrest/layout.js';

const TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2}(?:\.\d{1,6})?)? ?(Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * A --to-time PostgreSQL reads the same way whatever its TimeZone: a date, a time (to the
 * microsecond) and an explicit zone, e.g. `2026-01-02 03:04:05.123456+00` or
 * `2026-01-02T03:04:05Z`. Returned in the one form pgBackRest also parses (it picks the backup
 * to start from by it): `YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM]`, digits kept as written (a
 * JavaScript Date would drop the microseconds). The server checks the calendar later.
 */
export function parseTargetTime(text: string): string {
  const m = TIME.exec(text.trim());
  if (!m) {
    throw new UsageError(`--to-time '${text}' is not a timestamp with a time zone`, {
      hint: 'Write it like 2026-01-02 03:04:05+00 or 2026-01-02T03:04:05.123456Z (the zone is required; `select now()` in psql prints one).',
    });
  }
  return `${m[1]} ${m[2]}${m[3] ?? ':00'}${m[4] === 'Z' ? '+00' : m[4]}`;
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function inside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Creates the restore's data folder (0700, owned by the server account) after checking it is
 * not, nor holds, nor lies in, the running cluster's, and is empty (exit 3 otherwise).
 */
export function prepareDataDir(raw: string, liveDataDir: string, account: Account | undefined): string {
  const dir = resolve(raw);
  const [real, live] = [realOrSelf(dir), realOrSelf(liveDataDir)];
  if (inside(real, live) || inside(live, real)) {
    throw new UsageError(
      `--data-dir ${dir} is, holds, or lies inside the running cluster's data folder ${liveDataDir}`,
      {
        hint: 'Restore into a new folder elsewhere, e.g. --data-dir /srv/restore/app-0102.',
      },
    );
  }
  const existing = lstatSync(dir, { throwIfNoEntry: false });
  if (existing) {
    if (!existing.isDirectory())
      throw new UsageError(`--data-dir ${dir} exists and is not a folder`, { hint: 'Name a new folder.' });
    if (readdirSync(dir).length > 0) {
      throw new ConflictError(`--data-dir ${dir} is not empty: a restore never writes over files`, {
        hint: 'Name a new or empty folder.',
      });
    }
  }
  makeDirs(dirname(dir), 0o700);
  if (account) {
    const blocked = firstUnreachable(dirname(dir), account);
    if (blocked) {
      throw new ConfigError([`the restored server runs as ${account.name}, which cannot enter ${blocked}`], {
        hint: `Let it enter (chmod o+x '${blocked}'), or choose a --data-dir it can reach.`,
      });
    }
  }
  ownedFolder(dir, account);
  return dir;
}

/** --port when it is free on 127.0.0.1 (exit 3 when taken), else a free one. */
export async function choosePort(port: number | undefined): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES')
        reject(
          new ConflictError(`port ${port} on 127.0.0.1 is in use`, {
            hint: 'Choose another --port, or leave it out for a free one.',
          }),
        );
      else reject(error);
    });
    probe.listen({ port: port ?? 0, host: '127.0.0.1', exclusive: true }, () => {
      const chosen = (probe.address() as { port: number }).port;
      probe.close(() => resolvePort(chosen));
    });
  });
}

/** The instant a parsed --to-time names (parseTargetTime's form), for choosing a base backup. */
export function targetInstant(time: string): number {
  const [date, clock] = time.split(' ');
  const zone = /([+-]\d{2})(?::?(\d{2}))?$/.exec(clock!)!;
  return Date.parse(`${date}T${clock!.slice(0, zone.index)}${zone[1]}:${zone[2] ?? '00'}`);
}
