/**
 * `pgstore restore --engine basebackup [--to-time T] --data-dir DIR` (embedded server): copies
 * the newest base backup finished before T into a new, empty data folder, and lets the copy
 * replay WAL from the basic_archive folder (restore_command `cp`) up to T, then promotes it
 * on a port of its own. The running server is not touched, except that its current WAL
 * segment is ended and archived first, so the archive reaches T.
 */
import { closeSync, cpSync, lchownSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../../errors.js';
import type { Account } from '../../../tools/accounts.js';
import { createNewFile } from '../../../util/atomic-file.js';
import type { CoreOptions } from '../../options.js';
import { resolveBackupDir } from '../paths.js';
import { archiveUpToNow } from '../pgbackrest/archiving.js';
import { resolveCluster } from '../pgbackrest/cluster.js';
import { checkPlainPath } from '../pgbackrest/layout.js';
import { checkTargetOnServer } from '../pgbackrest/restore.js';
import { type RecoveredServer, startRecovered } from '../pitr/start.js';
import { choosePort, parseTargetTime, prepareDataDir, targetInstant } from '../pitr/target.js';
import { baseBackupLayout, listBaseBackups, prepareBaseLayout, requireEmbedded } from './layout.js';

export interface BaseRestoreOptions extends CoreOptions {
  dir?: string | undefined;
  toTime?: string | undefined;
  set?: string | undefined;
  dataDir: string;
  port?: number | undefined;
  timeoutMs?: number | undefined;
}

export interface BaseRestoreResult extends RecoveredServer {
  engine: 'basebackup';
  toTime: string | null;
  base: string;
  archivedThrough: string;
}

function chownTree(dir: string, account: Account): void {
  lchownSync(dir, account.uid, account.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path, account);
    else lchownSync(path, account.uid, account.gid);
  }
}

export async function baseRestore(options: BaseRestoreOptions): Promise<BaseRestoreResult> {
  const toTime = options.toTime === undefined ? undefined : parseTargetTime(options.toTime);
  const layout = baseBackupLayout(resolveBackupDir(options.dir, options.env));
  const cluster = await resolveCluster(options);
  requireEmbedded(cluster);
  if (toTime) await checkTargetOnServer(cluster.conn, toTime);
  const bases = listBaseBackups(layout.backupDir);
  const usable = bases.filter((b) =>
    options.set ? b.id === options.set : !toTime || Date.parse(b.finishedAt) <= targetInstant(toTime),
  );
  const base = usable[0];
  if (!base) {
    throw new UsageError(
      options.set
        ? `no base backup ${options.set} in ${layout.bases}`
        : `no base backup in ${layout.bases} finished before ${toTime ?? 'now'}`,
      {
        hint: bases.length
          ? `The oldest finished at ${bases[bases.length - 1]!.finishedAt}.`
          : 'Take one: pgstore backup --engine basebackup.',
      },
    );
  }
  prepareBaseLayout(layout, cluster);
  const dataDir = prepareDataDir(options.dataDir, cluster.dataDir, cluster.account);
  const port = await choosePort(options.port);
  const archivedThrough = await archiveUpToNow(cluster);
  options.log?.(`Copying base backup ${base.id} into ${dataDir}...`);
  cpSync(join(layout.bases, base.id, 'data'), dataDir, {
    recursive: true,
    verbatimSymlinks: true,
    errorOnExist: true,
    force: false,
  });
  closeSync(createNewFile(join(dataDir, 'recovery.signal'), 0o600, true));
  if (cluster.account) chownTree(dataDir, cluster.account);
  const settings: Record<string, string> = {
    restore_command: `cp ${checkPlainPath(layout.walArchive, 'WAL archive')}/%f %p`,
    archive_library: '',
    ...(toTime ? { recovery_target_time: toTime, recovery_target_action: 'promote' } : {}),
  };
  const server = await startRecovered({
    binaries: cluster.binaries,
    dataDir,
    account: cluster.account,
    port,
    conn: cluster.conn,
    settings,
    timeoutMs: options.timeoutMs,
    log: options.log,
  });
  return { engine: 'basebackup', toTime: toTime ?? null, base: base.id, archivedThrough, ...server };
}
