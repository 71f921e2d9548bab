/**
 * What must hold of the hosts event store after any mix of appends, as SQL over the tables:
 * the history never forks, and the streams and the projection equal the fold of the events.
 * Each check returns null when it holds, else a short description of what broke.
 */
import type postgres from 'postgres';

/**
 * No fork: per aggregate, in append order, each event names the previous one's version as its
 * expected version (the first names none), so no two events share an expected version.
 */
export async function forkIn(sql: postgres.Sql, aggregateIds?: string[]): Promise<string | null> {
  const ids = aggregateIds ? JSON.stringify(aggregateIds) : null;
  const rows = await sql<
    { aggregate_id: string; seq: string; expected_version: string | null; previous: string | null }[]
  >`
    select c.aggregate_id, c.seq::text, c.expected_version, c.previous
    from (select e.aggregate_id, e.seq, e.expected_version,
                 lag(e.event_version) over (partition by e.aggregate_id order by e.seq) as previous
          from hosts.host_events e
          where ${ids}::text is null or e.aggregate_id in (select jsonb_array_elements_text(${ids}::text::jsonb))) c
    where c.expected_version is distinct from c.previous
    limit 3`;
  if (rows.length === 0) return null;
  return `history forks: ${rows.map((r) => `${r.aggregate_id} event #${r.seq} expects ${r.expected_version ?? 'none'} after ${r.previous ?? 'none'}`).join('; ')}`;
}

/** hosts.streams and hosts.hosts equal what the whole log folds to. */
export async function projectionDrift(sql: postgres.Sql): Promise<string | null> {
  const [row] = await sql<{ streams: number; hosts: number }[]>`
    with f as materialized (select * from hosts.fold_events('infinity'))
    select
      (select count(*)::int from (
         (select aggregate_id, version, last_seq, event_count from hosts.streams
          except all select aggregate_id, version, last_seq, event_count from f)
         union all
         (select aggregate_id, version, last_seq, event_count from f
          except all select aggregate_id, version, last_seq, event_count from hosts.streams)) d) as streams,
      (select count(*)::int from (
         (select id, ip_address, hostname, aliases, comment, tags, created_at, updated_at, version, last_seq from hosts.hosts
          except all
          select aggregate_id, ip_address, hostname, aliases, comment, tags, created_at, updated_at, version, last_seq from f where live)
         union all
         (select aggregate_id, ip_address, hostname, aliases, comment, tags, created_at, updated_at, version, last_seq from f where live
          except all
          select id, ip_address, hostname, aliases, comment, tags, created_at, updated_at, version, last_seq from hosts.hosts)) d) as hosts`;
  if (!row || (row.streams === 0 && row.hosts === 0)) return null;
  return `the projection is not the fold of the events: ${row.streams} stream rows and ${row.hosts} host rows differ`;
}

/** The aggregate's event count and latest version, from the log itself. */
export async function logOf(
  sql: postgres.Sql,
  aggregateId: string,
): Promise<{ count: number; last: string | null; streamVersion: string | null; streamCount: number | null }> {
  const [row] = await sql<
    { count: number; last: string | null; stream_version: string | null; stream_count: number | null }[]
  >`
    select (select count(*)::int from hosts.host_events where aggregate_id = ${aggregateId}) as count,
           (select event_version from hosts.host_events where aggregate_id = ${aggregateId} order by seq desc limit 1) as last,
           (select version from hosts.streams where aggregate_id = ${aggregateId}) as stream_version,
           (select event_count from hosts.streams where aggregate_id = ${aggregateId}) as stream_count`;
  return { count: row!.count, last: row!.last, streamVersion: row!.stream_version, streamCount: row!.stream_count };
}

/** Describes the settled results that are neither a success nor an error of `expected`. */
export function unexpectedFailures(
  results: PromiseSettledResult<unknown>[],
  expected: abstract new (...args: never[]) => Error,
): string[] {
  return results.flatMap((r) =>
    r.status === 'rejected' && !(r.reason instanceof expected)
      ? [`${(r.reason as Error)?.constructor?.name}: ${(r.reason as Error)?.message}`]
      : [],
  );
}
