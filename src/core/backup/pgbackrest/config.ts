/**
 * The pgBackRest configuration pgstore writes from its resolved connection, and the
 * archive_command that sends the cluster's WAL to the repository.
 */
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { closeSync, fchownSync, fsyncSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Pgbackrest } from '../../../tools/pgbackrest.js';
import { createNewFile } from '../../../util/atomic-file.js';
import type { Cluster } from './cluster.js';
import { checkPlainPath, type PgbackrestLayout, STANZA } from './layout.js';

/** pgbackrest.conf for `cluster`, with the repository under `layout`. */
export function renderConfig(layout: PgbackrestLayout, cluster: Cluster): string {
  const processes = Math.max(1, Math.min(4, availableParallelism()));
  return [
    '# Written by pgstore (`pgstore backup --engine pgbackrest`); rewritten on every backup.',
    '[global]',
    `repo1-path=${layout.repo}`,
    // Nothing expires by itself: pgstore's retention flags do not apply to pgBackRest yet.
    'repo1-retention-full=9999999',
    `log-path=${layout.log}`,
    `lock-path=${layout.lock}`,
    `spool-path=${layout.spool}`,
    'log-level-console=warn',
    'log-level-stderr=warn',
    'log-level-file=info',
    'start-fast=y',
    'compress-type=lz4',
    `process-max=${processes}`,
    '',
    `[${STANZA}]`,
    `pg1-path=${checkPlainPath(cluster.dataDir, 'data folder')}`,
    `pg1-port=${cluster.facts.port}`,
    ...(cluster.socketDir ? [`pg1-socket-path=${checkPlainPath(cluster.socketDir, 'socket folder')}`] : []),
    `pg1-user=${cluster.conn.user}`,
    '',
  ].join('\n');
}

/**
 * Writes the configuration (0600, owned by the account pgBackRest runs as): a new file,
 * owned and filled through its descriptor, then renamed into place (never chown by path in
 * a folder that account can write).
 */
export function writeConfig(layout: PgbackrestLayout, cluster: Cluster): void {
  const temp = `${layout.config}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = createNewFile(temp, 0o600, true);
  try {
    if (cluster.account) fchownSync(fd, cluster.account.uid, cluster.account.gid);
    writeSync(fd, renderConfig(layout, cluster));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, layout.config);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** The archive_command that pushes each WAL segment into the repository. */
export function archiveCommand(br: Pgbackrest): string {
  return `${checkPlainPath(br.path, 'pgbackrest program')} --config=${checkPlainPath(br.config, 'configuration')} --stanza=${br.stanza} archive-push %p`;
}
