/**
 * Physical backups without pgBackRest, for the embedded server: WAL archived into a folder by
 * PostgreSQL 15's own `basic_archive` module (it ships in the npm binaries), and base backups
 * taken with pg_basebackup. Under the backup folder:
 *   wal-archive/               every WAL segment, written by the server (basic_archive)
 *   basebackup/<ID>/data/      a copy of the data folder; basebackup/<ID>/backup.json
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../../errors.js';
import { withAdminSql } from '../../../db/pool.js';
import { settingValue } from '../../../store/admin/index.js';
import { type ArchiveChange, ensureArchiving } from '../pgbackrest/archiving.js';
import type { Cluster } from '../pgbackrest/cluster.js';
import { checkPlainPath, enterableBackupDir, ownedFolder } from '../pgbackrest/layout.js';
import type { PhysicalBackup } from '../pgbackrest/list.js';

export interface BaseBackupLayout {
  backupDir: string;
  walArchive: string;
  bases: string;
}

export function baseBackupLayout(backupDir: string): BaseBackupLayout {
  return { backupDir, walArchive: join(backupDir, 'wal-archive'), bases: join(backupDir, 'basebackup') };
}

/** The embedded server only: another server's configuration and libraries are not pgstore's. */
export function requireEmbedded(cluster: Cluster): void {
  if (!cluster.embedded) {
    throw new UsageError('--engine basebackup (WAL archived by basic_archive) is for the embedded server only', {
      hint: 'For another server use --engine pgbackrest, which prints the settings to apply.',
    });
  }
}

export function prepareBaseLayout(layout: BaseBackupLayout, cluster: Cluster): void {
  checkPlainPath(layout.walArchive, 'backup folder');
  enterableBackupDir(layout.backupDir, cluster.account, layout.walArchive);
  ownedFolder(layout.walArchive, cluster.account);
  ownedFolder(layout.bases, cluster.account);
}

/** Makes the embedded server archive every WAL segment into the folder with basic_archive. */
export async function ensureBasicArchive(
  cluster: Cluster,
  layout: BaseBackupLayout,
  log?: (m: string) => void,
): Promise<ArchiveChange> {
  const directory = await withAdminSql(cluster.conn, (sql) => settingValue(sql, 'basic_archive.archive_directory'));
  return ensureArchiving(
    cluster,
    {
      archive_mode: 'on',
      archive_library: 'basic_archive',
      archive_command: null,
      'basic_archive.archive_directory': layout.walArchive,
    },
    { 'basic_archive.archive_directory': directory },
    log,
  );
}

export interface BaseBackupManifest {
  id: string;
  engine: 'basebackup';
  startedAt: string;
  finishedAt: string;
  sizeBytes: number;
}

/** Complete base backups, newest first (a folder starting with a dot is work in progress). */
export function listBaseBackups(backupDir: string): PhysicalBackup[] {
  const { bases } = baseBackupLayout(backupDir);
  if (!existsSync(bases)) return [];
  const found: PhysicalBackup[] = [];
  for (const name of readdirSync(bases)) {
    if (name.startsWith('.')) continue;
    try {
      const m = JSON.parse(readFileSync(join(bases, name, 'backup.json'), 'utf8')) as BaseBackupManifest;
      if (m.id !== name) continue;
      found.push({
        id: m.id,
        engine: 'basebackup',
        type: 'full',
        startedAt: m.startedAt,
        finishedAt: m.finishedAt,
        durationMs: Date.parse(m.finishedAt) - Date.parse(m.startedAt),
        sizeBytes: m.sizeBytes,
        repositoryBytes: m.sizeBytes,
        prior: null,
        wal: { start: null, stop: null },
        pageErrors: false,
      });
    } catch {
      // no manifest: an interrupted copy, never used
    }
  }
  return found.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}
