/**
 * `pgstore backup --engine pgbackrest`: writes pgBackRest's configuration from the resolved
 * connection, makes the cluster archive its WAL into the repository (see archiving.ts),
 * creates and checks the stanza, and takes a full, differential or incremental backup.
 */
import { join } from 'node:path';
import { ConflictError, ToolError } from '../../../errors.js';
import { withAdminSql } from '../../../db/pool.js';
import { systemIdentifier } from '../../../store/admin/index.js';
import {
  findPgbackrest,
  type Pgbackrest,
  type PgbackrestStanzaInfo,
  pgbackrestInfo,
  runPgbackrest,
} from '../../../tools/pgbackrest.js';
import { acquireFileLock } from '../../../util/file-lock.js';
import type { CoreOptions } from '../../options.js';
import { resolveBackupDir } from '../paths.js';
import { type ArchiveChange, ensureArchiving } from './archiving.js';
import { type Cluster, resolveCluster } from './cluster.js';
import { archiveCommand, writeConfig } from './config.js';
import { type PgbackrestLayout, pgbackrestLayout, prepareLayout, STANZA } from './layout.js';
import { type PhysicalBackup, toPhysicalBackup } from './list.js';
import {
  resolveStandby,
  type StandbyCluster,
  type StandbyOptions,
  standbyConnection,
  standbyOptions,
} from './standby.js';

export type PhysicalBackupType = 'full' | 'diff' | 'incr';

export interface PgbackrestBackupOptions extends CoreOptions {
  dir?: string | undefined;
  type?: PhysicalBackupType | undefined;
  /** Bound on the backup itself (default 24 h). */
  timeoutMs?: number | undefined;
  /** --backup-standby: copy the files from this standby (the primary still starts and stops the backup). */
  standby?: StandbyOptions | undefined;
}

export interface PgbackrestBackupResult {
  engine: 'pgbackrest';
  stanza: string;
  repository: string;
  config: string;
  /** What pgstore did to make the server archive WAL into the repository. */
  archiving: ArchiveChange;
  requestedType: PhysicalBackupType;
  backup: PhysicalBackup;
  /** The standby the files were copied from (--backup-standby), else null. */
  standby: { host: string; port: number; dataDir: string } | null;
}

/** Everything a pgBackRest command on this cluster needs, with the folders and configuration in place. */
export async function preparePgbackrest(
  options: CoreOptions & { dir?: string | undefined },
): Promise<{ layout: PgbackrestLayout; cluster: Cluster; br: Pgbackrest }> {
  const layout = pgbackrestLayout(resolveBackupDir(options.dir, options.env));
  const path = findPgbackrest(options.env);
  const cluster = await resolveCluster(options);
  prepareLayout(layout, cluster.account);
  writeConfig(layout, cluster);
  return {
    layout,
    cluster,
    br: { path, config: layout.config, stanza: STANZA, account: cluster.account, password: cluster.conn.password },
  };
}

/** What readyStanza does besides archiving and the stanza. */
export interface ReadyStanzaOptions {
  log?: ((m: string) => void) | undefined;
  /** Check the standby too (--backup-standby). */
  standby?: StandbyCluster | undefined;
  /**
   * Run pgBackRest's `check` (a WAL switch, waiting until it is archived). A backup does, before
   * it copies anything; a restore does not: it archives up to now itself (archiveUpToNow).
   */
  check: boolean;
  /** The stanza as `pgbackrest info` just read it. */
  info: PgbackrestStanzaInfo | undefined;
}

/**
 * The stanza is in the repository, whole, for this cluster (its current database has the
 * cluster's system identifier and major version): `stanza-create` would only say so, and it
 * costs ~0.6 s (pgBackRest 2.45 waits 100 ms for each query's result, pgbackrest/pgbackrest#2458).
 */
export async function stanzaIsReady(cluster: Cluster, info: PgbackrestStanzaInfo | undefined): Promise<boolean> {
  // 0: ok; 2: no valid backup yet. Anything else (missing path or data, ...) is stanza-create's to say.
  if (!info || (info.status.code !== 0 && info.status.code !== 2)) return false;
  const current = info.db.reduce<PgbackrestStanzaInfo['db'][number] | undefined>(
    (a, b) => (a && a.id > b.id ? a : b),
    undefined,
  );
  if (!current || current.version !== String(Math.floor(cluster.facts.versionNum / 10000))) return false;
  return (await withAdminSql(cluster.conn, (sql) => systemIdentifier(sql))) === current['system-id'];
}

/**
 * Switches archiving to the repository (if needed), then stanza-create (unless the stanza is
 * ready for this cluster: a different cluster's stanza gets pgBackRest's own refusal) and,
 * when asked, check (of the standby too, when given).
 */
export async function readyStanza(
  cluster: Cluster,
  br: Pgbackrest,
  options: ReadyStanzaOptions,
): Promise<ArchiveChange> {
  const archiving = await ensureArchiving(
    cluster,
    { archive_mode: 'on', archive_command: archiveCommand(br), archive_library: null },
    {},
    options.log,
  );
  br.password = cluster.conn.password;
  if (!(await stanzaIsReady(cluster, options.info))) await runPgbackrest(br, 'stanza-create', { timeoutMs: 120_000 });
  if (options.check)
    await runPgbackrest(br, 'check', {
      options: options.standby ? standbyOptions(options.standby) : [],
      timeoutMs: 180_000,
    });
  return archiving;
}

export async function pgbackrestBackup(options: PgbackrestBackupOptions): Promise<PgbackrestBackupResult> {
  // The standby's URL first (no connection), then the cluster, then the standby against it:
  // a wrong standby is refused before the lock, and before the server's archiving is touched.
  const standbyConn = options.standby ? standbyConnection(options.standby, options.env) : undefined;
  const { layout, cluster, br } = await preparePgbackrest(options);
  const standby = standbyConn ? await resolveStandby(standbyConn, options.standby?.dataDir, cluster) : undefined;
  const lock = await acquireFileLock(join(layout.root, 'pgstore.lock'), {
    purpose: 'pgBackRest backup',
    onHeld: (holder) =>
      new ConflictError(`another pgBackRest backup is running, pid ${holder.pid} since ${holder.since}`, {
        hint: 'Wait for it to finish.',
      }),
  });
  try {
    const info = await pgbackrestInfo(br);
    const archiving = await readyStanza(cluster, br, { log: options.log, standby, check: true, info });
    const type = options.type ?? 'full';
    const before = new Set(info?.backup.map((b) => b.label) ?? []);
    const from = standby ? ` from the standby ${standby.host}:${standby.port}` : '';
    options.log?.(
      `Taking ${type === 'incr' ? 'an' : 'a'} ${type} backup with pgBackRest${from} into ${layout.repo}...`,
    );
    await runPgbackrest(br, 'backup', {
      options: [`--type=${type}`, ...(standby ? standbyOptions(standby) : [])],
      timeoutMs: options.timeoutMs ?? 24 * 3600_000,
    });
    const made = (await pgbackrestInfo(br))?.backup.filter((b) => !before.has(b.label)).pop();
    if (!made) throw new ToolError('pgbackrest backup exited 0 but its info lists no new backup');
    return {
      engine: 'pgbackrest',
      stanza: STANZA,
      repository: layout.repo,
      config: layout.config,
      archiving,
      requestedType: type,
      backup: toPhysicalBackup(made),
      standby: standby ? { host: standby.host, port: standby.port, dataDir: standby.dataDir } : null,
    };
  } finally {
    await lock.release();
  }
}
