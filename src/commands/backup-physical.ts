/**
 * The CLI side of physical backups (`backup --engine pgbackrest`, `restore --engine
 * pgbackrest`, and their rows in `backup list`). The core is loaded only when used.
 */
import { type Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { wholeNumber } from './parse.js';
import type { Output } from '../ui/output.js';
import { formatBytes, plural } from '../util/format.js';
import type { ActionIO } from './context.js';
import type {
  PhysicalBackup,
  PgbackrestBackupResult,
  PgbackrestRestoreResult,
} from '../core/backup/pgbackrest/index.js';
import type { BaseRestoreResult } from '../core/backup/basebackup/index.js';

export const ENGINES = ['pg_dump', 'pgbackrest', 'basebackup'] as const;
export type Engine = (typeof ENGINES)[number];

/** --engine, else PGSTORE_BACKUP_ENGINE, else pg_dump. */
export function engineOf(flag: string | undefined, env: Record<string, string | undefined>): Engine {
  const value = flag ?? (env.PGSTORE_BACKUP_ENGINE?.trim() || 'pg_dump');
  if (!(ENGINES as readonly string[]).includes(value)) {
    throw new UsageError(`${flag ? '--engine' : 'PGSTORE_BACKUP_ENGINE'} '${value}' is not an engine`, {
      hint: `Use one of: ${ENGINES.join(', ')}.`,
    });
  }
  return value as Engine;
}

/** Refuses flags that mean nothing to the engine chosen. */
export function refuseFlags(engine: Engine, given: Record<string, unknown>): void {
  const bad = Object.entries(given)
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k]) => k);
  if (bad.length) {
    throw new UsageError(`${bad.join(', ')} ${bad.length === 1 ? 'does' : 'do'} not apply to --engine ${engine}`, {
      hint:
        engine === 'pgbackrest'
          ? 'pgBackRest backs up the whole cluster: choose --type full, diff or incr.'
          : engine === 'basebackup'
            ? 'A base backup copies the whole cluster; it takes no other flags.'
            : 'Leave them out, or add --engine pgbackrest.',
    });
  }
}

/** --backup-standby and the flags that say where the standby is. */
export interface StandbyFlags {
  backupStandby?: boolean;
  standbyUrl?: string;
  standbyDataDir?: string;
}

/** The standby flags by name, for refuseFlags. */
export function standbyFlags(flags: StandbyFlags): Record<string, unknown> {
  return {
    '--backup-standby': flags.backupStandby,
    '--standby-url': flags.standbyUrl,
    '--standby-data-dir': flags.standbyDataDir,
  };
}

/** The standby to back up from (--backup-standby), or undefined; where-flags without it are refused. */
function standbyOf(flags: StandbyFlags): { url?: string; dataDir?: string } | undefined {
  if (flags.backupStandby) return { url: flags.standbyUrl, dataDir: flags.standbyDataDir };
  const given = Object.entries(standbyFlags(flags)).filter(([, v]) => v !== undefined);
  if (given.length === 0) return undefined;
  throw new UsageError(
    `${given.map(([k]) => k).join(', ')} only ${given.length === 1 ? 'applies' : 'apply'} with --backup-standby`,
    {
      hint: 'Add --backup-standby to copy the files from that standby, or leave them out.',
    },
  );
}

/** A physical backup's result and how it reads for people (the action renders one or the other). */
export interface Rendered<R> {
  result: R;
  describe: (out: Output) => void;
}

export async function physicalBackup(
  io: ActionIO,
  engine: Engine,
  flags: { dir?: string; type?: 'full' | 'diff' | 'incr' } & StandbyFlags,
): Promise<Rendered<unknown>> {
  if (engine === 'basebackup') {
    const { baseBackup } = await import('../core/backup/basebackup/index.js');
    const r = await baseBackup({ ...io.core(), dir: flags.dir });
    return {
      result: r,
      describe: (out) => {
        if (r.archiving !== 'unchanged')
          out.info(`WAL archiving (basic_archive) now goes to ${r.walArchive} (server ${r.archiving}).`);
        out.result(
          `Copied the cluster with pg_basebackup: ${r.backup.id} (${formatBytes(r.backup.sizeBytes)}) in ${r.path}`,
        );
      },
    };
  }
  const { pgbackrestBackup } = await import('../core/backup/pgbackrest/index.js');
  const result: PgbackrestBackupResult = await pgbackrestBackup({
    ...io.core(),
    dir: flags.dir,
    type: flags.type,
    standby: standbyOf(flags),
  });
  return {
    result,
    describe: (out) => {
      const b = result.backup;
      if (result.archiving !== 'unchanged')
        out.info(`WAL archiving now goes to ${result.repository} (server ${result.archiving}).`);
      if (b.type !== result.requestedType)
        out.warn(
          `pgBackRest took a ${b.type} backup instead of ${result.requestedType} (there was no backup to base it on)`,
        );
      const from = result.standby
        ? `, files copied from the standby ${result.standby.host}:${result.standby.port}`
        : '';
      out.result(`Backed up the cluster with pgBackRest: ${b.id} (${b.type}${from})`);
      out.result(
        `  ${formatBytes(b.sizeBytes)} cluster, ${formatBytes(b.repositoryBytes)} added to ${result.repository}, ${(b.durationMs / 1000).toFixed(0)} s`,
      );
    },
  };
}

export async function physicalRestore(
  io: ActionIO,
  engine: Engine,
  flags: { dir?: string; toTime?: string; dataDir?: string; port?: number; set?: string },
): Promise<Rendered<PgbackrestRestoreResult | BaseRestoreResult>> {
  if (!flags.dataDir)
    throw new UsageError(`--engine ${engine} restores into a new data folder: --data-dir is required`, {
      hint: 'For example --data-dir /srv/restore/app --to-time "2026-01-02 03:04:05+00".',
    });
  const options = {
    ...io.core(),
    dir: flags.dir,
    toTime: flags.toTime,
    dataDir: flags.dataDir,
    port: flags.port,
    set: flags.set,
  };
  const r: PgbackrestRestoreResult | BaseRestoreResult =
    engine === 'basebackup'
      ? await (await import('../core/backup/basebackup/index.js')).baseRestore(options)
      : await (await import('../core/backup/pgbackrest/index.js')).pgbackrestRestore(options);
  return {
    result: r,
    describe: (out) => {
      out.result(
        `Restored the cluster into ${r.dataDir}${r.toTime ? ` as of ${r.toTime}` : ''}; it runs on 127.0.0.1:${r.port}.`,
      );
      if (r.lastTransactionAt) out.result(`  last transaction replayed: ${r.lastTransactionAt}`);
      out.result(
        `  ${plural(r.tables.length, 'table')}, ${plural(
          r.tables.reduce((s, t) => s + t.rows, 0),
          'row',
        )} in the database`,
      );
      out.result(`  stop it: ${r.stopCommand}`);
    },
  };
}

/** pgBackRest backups and base backups in the folder, or a warning (never a failure of the whole listing). */
export async function physicalRows(io: ActionIO, dir: string): Promise<PhysicalBackup[]> {
  const { listBaseBackups } = await import('../core/backup/basebackup/index.js');
  const { hasPgbackrest, listPhysicalBackups } = await import('../core/backup/pgbackrest/index.js');
  const bases = listBaseBackups(dir);
  if (!hasPgbackrest(dir)) return bases;
  try {
    return [...(await listPhysicalBackups(dir, io.env)), ...bases];
  } catch (error) {
    io.out.warn(`pgBackRest backups could not be listed: ${(error as Error).message}`);
    return bases;
  }
}

/** restore's options for a physical engine. */
export function physicalRestoreOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--engine <engine>',
        'pg_dump (default, or PGSTORE_BACKUP_ENGINE), or pgbackrest / basebackup (the whole cluster into --data-dir, to a point in time)',
      ).choices(['pg_dump', 'pgbackrest', 'basebackup']),
    )
    .option(
      '--to-time <timestamp>',
      'with a physical --engine: replay WAL up to this time, with its zone (e.g. "2026-01-02 03:04:05+00"); default the end of the archive',
    )
    .option(
      '--data-dir <dir>',
      'with a physical --engine: a new or empty folder for the restored cluster (never the running one)',
    )
    .addOption(
      new Option(
        '--port <n>',
        'with a physical --engine: the port the restored cluster listens on (default: a free one)',
      ).argParser(wholeNumber('--port', 1, 65535)),
    )
    .option(
      '--set <label>',
      'with a physical --engine: the backup to start from (default: the newest before --to-time)',
    );
}
