/**
 * A lock not granted in time, explained: which table, who holds it (or is queued ahead for it),
 * since when, and how to wait longer. cli.ts calls `explainLockTimeout` with the failure of a
 * command and the target it ran on; a failure that is not a lock timeout gives undefined.
 */
import { LockTimeoutError } from '../errors.js';
import type { ConnectionTarget } from './config.js';
import { describeLockTimeout, urlSetsLockTimeout } from './lock-timeout.js';
import { serverFor, withAdminSql } from './pool.js';

interface Blocker {
  pid: number;
  app: string;
  since: Date | null;
  mode: string;
  granted: boolean;
  rel: string;
}

/** The lock timeout in an error's cause chain: pgstore's own, or the driver's SQLSTATE 55P03. */
function lockFailure(error: unknown): { table: string | undefined; cause: unknown } | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof LockTimeoutError) return { table: e.table, cause: e };
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === '55P03') {
      // NOWAIT and row locks name the relation; lock_timeout does not.
      const rel = /relation "([^"]+)"/.exec(String(message ?? ''))?.[1];
      return { table: rel, cause: e };
    }
  }
  return undefined;
}

/**
 * A LockTimeoutError for `error` if it is a lock not granted in time, naming the table, the
 * sessions holding or queued for it (asked on a connection of its own, in at most 5 s; none
 * named if that fails) and the setting to change; else undefined.
 */
export async function explainLockTimeout(
  error: unknown,
  target: ConnectionTarget,
): Promise<LockTimeoutError | undefined> {
  const failure = lockFailure(error);
  if (!failure) return undefined;
  const blockers = await findBlockers(target, failure.table).catch(() => [] as Blocker[]);
  const tables = [...new Set(blockers.map((b) => b.rel))];
  const table = failure.table ?? (tables.length === 1 ? tables[0] : undefined);
  const own = target.kind === 'server' && urlSetsLockTimeout(target.params.options);
  const ms = target.lockTimeoutMs;
  const within = own || ms === undefined ? 'within lock_timeout' : `within ${describeLockTimeout(ms)}`;
  const holders = blockers
    .map(
      (b) =>
        `server process ${b.pid} (${b.app}${b.since ? `, since ${b.since.toISOString()}` : ''}) ${b.granted ? 'holds' : 'waits for'} ${b.mode.replace(/Lock$/, '')} on ${b.rel}`,
    )
    .join('; ');
  const wait = own
    ? "raise lock_timeout in the URL's options"
    : `set PGSTORE_LOCK_TIMEOUT to wait longer (now ${describeLockTimeout(ms ?? 0)}; 0 waits forever)`;
  return new LockTimeoutError(`lock on ${table ?? 'a table'} not granted ${within}`, {
    table,
    cause: failure.cause,
    hint: `${holders ? `${holders}. ` : ''}Wait for ${blockers.length === 1 ? 'it' : 'the holder'} to finish (or end it: pg_terminate_backend), or ${wait}.`,
  });
}

/**
 * Sessions holding a lock on `table` stronger than ACCESS SHARE, or queued for ACCESS EXCLUSIVE
 * on it (a waiting ALTER TABLE blocks every later request); without a table, those holding
 * SHARE or stronger (or queued for ACCESS EXCLUSIVE) on any table of the database: an educated
 * guess, since lock_timeout's error does not say what it waited for. At most three, strongest first.
 */
async function findBlockers(target: ConnectionTarget, table: string | undefined): Promise<Blocker[]> {
  const conn = await serverFor(target);
  return withAdminSql(
    conn,
    (sql) => sql<Blocker[]>`
      select l.pid, coalesce(nullif(a.application_name, ''), '?') as app,
             coalesce(a.xact_start, a.query_start, a.backend_start) as since,
             l.mode, l.granted, format('%I.%I', n.nspname, c.relname) as rel
        from pg_locks l
        join pg_stat_activity a on a.pid = l.pid
        join pg_class c on c.oid = l.relation
        join pg_namespace n on n.oid = c.relnamespace
       where l.locktype = 'relation'
         and l.database = (select oid from pg_database where datname = current_database())
         and l.pid <> pg_backend_pid()
         and c.relkind in ('r', 'p', 'm', 'v', 'f')
         and (${table ?? null}::text is null or l.relation = to_regclass(${table ?? null}::text))
         and ((l.granted and l.mode in ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'))
              or (l.granted and ${table ?? null}::text is not null and l.mode <> 'AccessShareLock')
              or (not l.granted and l.mode = 'AccessExclusiveLock'))
       order by l.granted desc,
                array_position(array['AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock',
                                     'ShareUpdateExclusiveLock', 'RowExclusiveLock', 'RowShareLock'], l.mode::text),
                since
       limit 3`,
    conn.database,
    { connectTimeoutSeconds: 5, applicationName: 'pgstore (lock report)' },
  );
}
