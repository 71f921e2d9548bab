/**
 * `pgstore backup --engine basebackup` (embedded server): switches WAL archiving to
 * basic_archive into <backup dir>/wal-archive (restarting the server when archive_mode
 * changes), then copies the cluster with pg_basebackup into basebackup/.partial-<ID>, renamed
 * to basebackup/<ID> once complete with its backup.json.
 */
import { renameSync, rmSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError } from '../../../errors.js';
import { findPgClient } from '../../../tools/pg-client.js';
import { runBaseBackup } from '../../../tools/pg-basebackup.js';
import { writeFileAtomic, fsyncDir } from '../../../util/atomic-file.js';
import { acquireFileLock } from '../../../util/file-lock.js';
import type { CoreOptions } from '../../options.js';
import { backupStamp, resolveBackupDir } from '../paths.js';
import type { ArchiveChange } from '../pgbackrest/archiving.js';
import { resolveCluster } from '../pgbackrest/cluster.js';
import { ownedFolder } from '../pgbackrest/layout.js';
import type { PhysicalBackup } from '../pgbackrest/list.js';
import {
  type BaseBackupManifest,
  baseBackupLayout,
  ensureBasicArchive,
  listBaseBackups,
  prepareBaseLayout,
  requireEmbedded,
} from './layout.js';

export interface BaseBackupResult {
  engine: 'basebackup';
  walArchive: string;
  archiving: ArchiveChange;
  backup: PhysicalBackup;
  path: string;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

export async function baseBackup(
  options: CoreOptions & { dir?: string | undefined; timeoutMs?: number | undefined },
): Promise<BaseBackupResult> {
  const layout = baseBackupLayout(resolveBackupDir(options.dir, options.env));
  const cluster = await resolveCluster(options);
  requireEmbedded(cluster);
  prepareBaseLayout(layout, cluster);
  const lock = await acquireFileLock(join(layout.bases, '.lock'), {
    purpose: 'base backup',
    onHeld: (holder) =>
      new ConflictError(`another base backup is running, pid ${holder.pid} since ${holder.since}`, {
        hint: 'Wait for it to finish.',
      }),
  });
  try {
    const archiving = await ensureBasicArchive(cluster, layout, options.log);
    const major = Math.floor(cluster.facts.versionNum / 10000);
    const tool = await findPgClient('pg_basebackup', major, options.env);
    const started = new Date();
    const id = backupStamp(started);
    const partial = join(layout.bases, `.partial-${id}`);
    ownedFolder(partial, cluster.account);
    try {
      options.log?.(`Copying the cluster with pg_basebackup into ${join(layout.bases, id)}...`);
      await runBaseBackup({
        path: tool.path,
        conn: cluster.conn,
        target: join(partial, 'data'),
        account: cluster.account,
        timeoutMs: options.timeoutMs ?? 24 * 3600_000,
      });
      const manifest: BaseBackupManifest = {
        id,
        engine: 'basebackup',
        startedAt: started.toISOString(),
        finishedAt: new Date().toISOString(),
        sizeBytes: folderBytes(join(partial, 'data')),
      };
      writeFileAtomic(join(partial, 'backup.json'), `${JSON.stringify(manifest, null, 2)}\n`, 0o600, {
        exactMode: true,
      });
      renameSync(partial, join(layout.bases, id));
      fsyncDir(layout.bases);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      throw error;
    }
    const backup = listBaseBackups(layout.backupDir).find((b) => b.id === id)!;
    return { engine: 'basebackup', walArchive: layout.walArchive, archiving, backup, path: join(layout.bases, id) };
  } finally {
    await lock.release();
  }
}
