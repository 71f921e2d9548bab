/**
 * The cluster a physical backup is taken of: its data folder, port and socket, the account
 * that owns it (pgBackRest and a restored copy run as that account when pgstore is root), its
 * server programs (pg_ctl), and whether it is pgstore's embedded server (whose configuration
 * pgstore owns). pgBackRest reads the data folder directly, so pgstore must run on the
 * database host, as root or as the folder's owner.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServerConnection } from '../../../db/config.js';
import { ConfigError, UsageError } from '../../../errors.js';
import { type Account, findAccountByUid, isRoot } from '../../../tools/accounts.js';
import type { PostgresBinaries } from '../../../tools/postgres-binaries.js';
import { type ClusterFacts, clusterFacts } from '../../../store/admin/index.js';
import { withAdminSql } from '../../../db/pool.js';
import type { CoreOptions } from '../../options.js';

export interface Cluster {
  conn: ServerConnection;
  facts: ClusterFacts;
  dataDir: string;
  socketDir: string;
  account: Account | undefined;
  binaries: PostgresBinaries;
  /** The embedded server's target, when it is pgstore's own. */
  embedded: import('../../../db/config.js').EmbeddedTarget | undefined;
}

/** Connects (starting the embedded server if it is the target) and finds out where the cluster lives. */
export async function resolveCluster(options: CoreOptions): Promise<Cluster> {
  const target = options.target;
  const { serverFor } = await import('../../../db/pool.js');
  const conn = await serverFor(target, { log: options.log });
  const facts = await withAdminSql(conn, (sql) => clusterFacts(sql));
  if (!facts.superuser) {
    throw new UsageError(`physical backups need a superuser connection; ${conn.user} is not one`, {
      hint: 'Connect as the cluster superuser (e.g. postgres) for --engine pgbackrest.',
    });
  }
  const dataDir = facts.dataDirectory;
  if (target.kind !== 'embedded' && !existsSync(dataDir)) {
    throw new ConfigError(
      [`the server's data folder ${dataDir} is not on this machine (or not visible to this user)`],
      {
        hint: 'pgBackRest reads the data folder itself: run pgstore on the database host, as root or as the owner of the data folder.',
      },
    );
  }
  const owner = statSync(dataDir).uid;
  let account: Account | undefined;
  if (isRoot()) {
    account = findAccountByUid(owner);
    if (!account)
      throw new ConfigError([`the data folder ${dataDir} belongs to uid ${owner}, which has no account here`]);
  } else if (owner !== process.getuid?.()) {
    throw new ConfigError(
      [`the data folder ${dataDir} belongs to uid ${owner}, not to this user (uid ${process.getuid?.()})`],
      {
        hint: 'Run pgstore as the owner of the data folder (usually postgres), or as root.',
      },
    );
  }
  let binaries: PostgresBinaries;
  if (target.kind === 'embedded') {
    const { locateBinaries, binariesReachableBy } = await import('../../../tools/postgres-binaries.js');
    binaries = binariesReachableBy(locateBinaries(), account, target.home);
  } else if (facts.binDirectory) {
    const bin = facts.binDirectory;
    binaries = {
      root: dirname(bin),
      initdb: join(bin, 'initdb'),
      pgCtl: join(bin, 'pg_ctl'),
      postgres: join(bin, 'postgres'),
      packageVersion: String(facts.versionNum),
    };
  } else {
    throw new ConfigError(['cannot find the server programs (pg_config is not readable)']);
  }
  return {
    conn,
    facts,
    dataDir,
    socketDir: facts.socketDirectory,
    account,
    binaries,
    embedded: target.kind === 'embedded' ? target : undefined,
  };
}
