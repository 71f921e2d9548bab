/**
 * pgBackRest's backups as pgstore lists them, read only from `pgbackrest info --output=json`:
 * beside pg_dump backups in `backup list` and in health's last_backup check.
 */
import { isRoot } from '../../../tools/accounts.js';
import {
  findPgbackrest,
  type Pgbackrest,
  type PgbackrestBackupInfo,
  pgbackrestInfo,
} from '../../../tools/pgbackrest.js';
import { hasPgbackrest, pgbackrestLayout, repositoryAccount, STANZA } from './layout.js';

/** One physical backup (the whole cluster, not one database). */
export interface PhysicalBackup {
  id: string;
  /** pgbackrest, or basebackup (pg_basebackup + WAL archived by basic_archive; always full). */
  engine: 'pgbackrest' | 'basebackup';
  /** full, diff (changes since the last full) or incr (since the last backup of any type). */
  type: 'full' | 'diff' | 'incr';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** The cluster's size at the backup. */
  sizeBytes: number;
  /** What this backup added to the repository (compressed; for diff/incr only the changes). */
  repositoryBytes: number;
  /** The backup it depends on (diff, incr). */
  prior: string | null;
  /** WAL needed to make it consistent. */
  wal: { start: string | null; stop: string | null };
  /** pgBackRest found checksum errors in data pages while copying. */
  pageErrors: boolean;
}

export function toPhysicalBackup(b: PgbackrestBackupInfo): PhysicalBackup {
  return {
    id: b.label,
    engine: 'pgbackrest',
    type: b.type,
    startedAt: new Date(b.timestamp.start * 1000).toISOString(),
    finishedAt: new Date(b.timestamp.stop * 1000).toISOString(),
    durationMs: (b.timestamp.stop - b.timestamp.start) * 1000,
    sizeBytes: b.info.size,
    repositoryBytes: b.info.repository.delta,
    prior: b.prior,
    wal: { start: b.archive.start, stop: b.archive.stop },
    pageErrors: b.error === true,
  };
}

/** The handle for reading a backup folder's repository (as its owner when pgstore is root). */
export function repositoryReader(backupDir: string, env: Record<string, string | undefined>): Pgbackrest {
  const layout = pgbackrestLayout(backupDir);
  return {
    path: findPgbackrest(env),
    config: layout.config,
    stanza: STANZA,
    account: repositoryAccount(layout, isRoot()),
    password: undefined,
  };
}

/** pgBackRest backups under `backupDir`, newest first (none when pgstore never wrote a configuration there). */
export async function listPhysicalBackups(
  backupDir: string,
  env: Record<string, string | undefined>,
): Promise<PhysicalBackup[]> {
  if (!hasPgbackrest(backupDir)) return [];
  const info = await pgbackrestInfo(repositoryReader(backupDir, env));
  return (info?.backup ?? [])
    .map(toPhysicalBackup)
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
}
