/**
 * `backup --engine pgbackrest --backup-standby`: pgBackRest's backup-standby=y. The primary
 * still starts and stops the backup and archives the WAL; the bulk of the files is copied from
 * a streaming standby. pgBackRest reads both data folders itself, so the standby must run on
 * this host too (pgstore configures no SSH/TLS remote hosts), owned by the same account as the
 * primary's. Before pgBackRest runs, pgstore checks the standby: reachable as a superuser, in
 * recovery, a copy of this primary (same system identifier) and receiving its WAL; each
 * failure is one line with a hint (exit 2), not pgBackRest's wait for a replay that never comes.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Env, ServerConnection } from '../../../db/config.js';
import { resolveReplicas } from '../../../db/replica-config.js';
import { withAdminSql } from '../../../db/pool.js';
import { ConfigError, UsageError } from '../../../errors.js';
import { clusterFacts, restoreCommand, systemIdentifier, walReceiverStatus } from '../../../store/admin/index.js';
import type { Cluster } from './cluster.js';
import { checkPlainPath } from './layout.js';

/** Where the standby is: --standby-url (else DATABASE_REPLICA_URL's first URL) and --standby-data-dir. */
export interface StandbyOptions {
  url?: string | undefined;
  /** Default: the standby's own `data_directory`. */
  dataDir?: string | undefined;
}

/** The standby's connection and where its URL came from (for messages). */
export function standbyConnection(standby: StandbyOptions, env: Env): { conn: ServerConnection; from: string } {
  const from = standby.url !== undefined ? '--standby-url' : 'DATABASE_REPLICA_URL';
  const given = standby.url ?? env.DATABASE_REPLICA_URL;
  if (given === undefined || given.trim() === '') {
    throw new UsageError('--backup-standby needs the standby: --standby-url, or DATABASE_REPLICA_URL set', {
      hint: 'Give --standby-url postgres://postgres@127.0.0.1:5433/postgres (a standby on this host).',
    });
  }
  // A comma list (DATABASE_REPLICA_URL may name several replicas): the first one.
  const [conn] = resolveReplicas(given, env, from);
  return { conn: conn!, from };
}

/** The standby as pgBackRest is told of it (pg2-*). */
export interface StandbyCluster {
  host: string;
  port: number;
  user: string;
  dataDir: string;
  socketDir: string;
}

const where = (conn: ServerConnection) => `${conn.host}:${conn.port}`;

/** Checks the standby against the primary and finds its data folder. */
export async function resolveStandby(
  standby: { conn: ServerConnection; from: string },
  givenDataDir: string | undefined,
  primary: Cluster,
): Promise<StandbyCluster> {
  const { conn, from } = standby;
  const name = `the standby at ${where(conn)} (${from})`;
  const facts = await withAdminSql(conn, (sql) => clusterFacts(sql));
  if (!facts.inRecovery) {
    throw new ConfigError([`${name} is not in recovery: it is a primary, not a standby`], {
      hint: 'Point --standby-url (or DATABASE_REPLICA_URL) at a streaming standby of this primary.',
    });
  }
  if (!facts.superuser) {
    throw new UsageError(`${name}: ${conn.user} is not a superuser there`, {
      hint: "pgBackRest needs a superuser on the standby too: use the primary's superuser (it is replicated).",
    });
  }
  const [mine, [theirs, receiver, restore]] = await Promise.all([
    withAdminSql(primary.conn, (sql) => systemIdentifier(sql)),
    withAdminSql(
      conn,
      async (sql) => [await systemIdentifier(sql), await walReceiverStatus(sql), await restoreCommand(sql)] as const,
    ),
  ]);
  if (mine !== theirs) {
    throw new ConfigError(
      [`${name} is not a standby of this primary: its system identifier is ${theirs}, the primary's is ${mine}`],
      { hint: 'Point --standby-url at a standby made from this primary (pg_basebackup -R, or a pgBackRest restore).' },
    );
  }
  if (!receiver.running && !restore) {
    throw new ConfigError([`${name} receives no WAL: its WAL receiver is not running and it has no restore_command`], {
      hint: "A standby backup waits until the standby replays the primary's backup start: check the standby's primary_conninfo and its log.",
    });
  }
  if (conn.password !== primary.conn.password && conn.password !== undefined) {
    throw new UsageError(`${name}: its password differs from the primary's, and pgBackRest takes only one`, {
      hint: 'Connect to both as the same role (it is replicated), or leave the password out of the standby URL.',
    });
  }
  const dataDir = givenDataDir ?? facts.dataDirectory;
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    throw new ConfigError(
      [`the standby's data folder ${dataDir} is not on this machine (or not visible to this user)`],
      {
        hint: givenDataDir
          ? 'Give --standby-data-dir the folder the standby runs from (its `show data_directory`).'
          : "pgBackRest copies the standby's files itself: run the standby on this host, or give --standby-data-dir if this host sees its folder under another path.",
      },
    );
  }
  const owner = statSync(dataDir).uid;
  const primaryOwner = statSync(primary.dataDir).uid;
  if (owner !== primaryOwner) {
    throw new ConfigError(
      [`the standby's data folder ${dataDir} belongs to uid ${owner}, the primary's to uid ${primaryOwner}`],
      { hint: 'pgBackRest runs as one account: both data folders must belong to it.' },
    );
  }
  return {
    host: conn.host,
    port: facts.port,
    user: conn.user,
    dataDir: checkPlainPath(dataDir, "standby's data folder"),
    socketDir: facts.socketDirectory,
  };
}

/** pgBackRest's options for a backup from `standby` (on the command line: the configuration file stays the primary's). */
export function standbyOptions(standby: StandbyCluster): string[] {
  return [
    `--pg2-path=${standby.dataDir}`,
    `--pg2-port=${standby.port}`,
    ...(standby.socketDir ? [`--pg2-socket-path=${checkPlainPath(standby.socketDir, "standby's socket folder")}`] : []),
    `--pg2-user=${standby.user}`,
    '--backup-standby',
  ];
}
