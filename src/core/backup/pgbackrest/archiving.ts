/**
 * Continuous WAL archiving, switched on where pgstore may and explained where it may not.
 * On the embedded server pgstore owns the configuration: it sets the settings with ALTER
 * SYSTEM and reloads, or restarts the server when archive_mode changes (PostgreSQL reads that
 * one only at start). Elsewhere it changes nothing: it stops with the exact settings to apply.
 */
import { withAdminSql } from '../../../db/pool.js';
import { ConfigError, ToolError } from '../../../errors.js';
import {
  alterSystem,
  archiverStatus,
  type ClusterFacts,
  reloadConfiguration,
  switchWal,
} from '../../../store/admin/index.js';
import type { Cluster } from './cluster.js';

/** The settings wanted (null: reset to the default, i.e. empty). */
export type ArchiveSettings = Record<'archive_mode' | 'archive_command' | 'archive_library', string | null> &
  Record<string, string | null>;

export type ArchiveChange = 'unchanged' | 'reloaded' | 'restarted';

function current(facts: ClusterFacts, name: string): string {
  return (
    (
      {
        archive_mode: facts.archiveMode,
        archive_command: facts.archiveCommand,
        archive_library: facts.archiveLibrary,
      } as Record<string, string>
    )[name] ?? ''
  );
}

/** The settings that differ from what the server runs with (extra ones are compared by the caller). */
export function settingsToChange(
  facts: ClusterFacts,
  wanted: ArchiveSettings,
  extra: Record<string, string> = {},
): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(wanted)) {
    const now = name in extra ? extra[name]! : current(facts, name);
    const same =
      name === 'archive_mode'
        ? value === 'on'
          ? now === 'on' || now === 'always'
          : now === value
        : now === (value ?? '');
    if (!same) changes[name] = value;
  }
  return changes;
}

/** "archive_mode = 'on'" lines, as they go into postgresql.conf. */
export function describeSettings(settings: Record<string, string | null>): string[] {
  return Object.entries(settings).map(([name, value]) => `${name} = '${(value ?? '').replace(/'/g, "''")}'`);
}

/**
 * Makes the cluster archive its WAL with `wanted`. Returns what it had to do. On a server that
 * is not the embedded one, a difference is a ConfigError listing the exact settings.
 */
export async function ensureArchiving(
  cluster: Cluster,
  wanted: ArchiveSettings,
  current: Record<string, string>,
  log?: (m: string) => void,
): Promise<ArchiveChange> {
  const changes = settingsToChange(cluster.facts, wanted, current);
  if (Object.keys(changes).length === 0) return 'unchanged';
  if (!cluster.embedded) {
    const restart = 'archive_mode' in changes;
    throw new ConfigError(
      [
        `the server does not archive its WAL where pgstore expects; set these in its postgresql.conf, then ${restart ? 'restart PostgreSQL (archive_mode needs a restart)' : 'reload PostgreSQL'}:\n  ${describeSettings(wanted).join('\n  ')}`,
      ],
      {
        hint: `Or, as a superuser: ${Object.entries(wanted)
          .map(([n, v]) =>
            v === null ? `ALTER SYSTEM RESET ${n};` : `ALTER SYSTEM SET ${n} = '${v.replace(/'/g, "''")}';`,
          )
          .join(' ')} then ${restart ? 'restart' : 'SELECT pg_reload_conf();'} and run this command again.`,
      },
    );
  }
  const libraries = changes.archive_library ? [changes.archive_library] : [];
  await withAdminSql(cluster.conn, (sql) => alterSystem(sql, changes, libraries));
  const pending = await withAdminSql(cluster.conn, (sql) => reloadConfiguration(sql));
  if (pending.length === 0) return 'reloaded';
  log?.(
    `Restarting the embedded server: ${pending.join(', ')} take${pending.length === 1 ? 's' : ''} effect only at start.`,
  );
  const { stopEmbedded, ensureEmbedded } = await import('../../../db/embedded.js');
  await stopEmbedded(cluster.embedded);
  cluster.conn = await ensureEmbedded(cluster.embedded, { log });
  return 'restarted';
}

/** WAL file names sort by position within one timeline; compares the log and segment parts. */
function walAtLeast(have: string | null, want: string): boolean {
  if (!have || !/^[0-9A-F]{24}$/.test(have)) return false;
  const [haveLine, wantLine] = [have.slice(0, 8), want.slice(0, 8)];
  return haveLine > wantLine || (haveLine === wantLine && have.slice(8) >= want.slice(8));
}

/**
 * Ends the current WAL segment and waits (bounded) until the archiver has archived it, so that
 * everything committed before this call can be recovered. Fails naming the archiver's last error.
 */
export async function archiveUpToNow(cluster: Cluster, timeoutMs = 60_000): Promise<string> {
  return withAdminSql(cluster.conn, async (sql) => {
    const segment = await switchWal(sql);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await archiverStatus(sql);
      if (walAtLeast(status.lastArchivedWal, segment)) return segment;
      if (Date.now() > deadline) {
        const failed = status.lastFailedWal
          ? `; the last failure was ${status.lastFailedWal} at ${status.lastFailedTime?.toISOString()}`
          : '';
        throw new ToolError(
          `WAL segment ${segment} was not archived within ${Math.round(timeoutMs / 1000)} s (last archived: ${status.lastArchivedWal ?? 'none'}${failed})`,
          {
            hint: "Look at the server log for archive_command's errors.",
          },
        );
      }
      // A query on the open connection: cheap to ask often (archive-push takes ~0.1 s a segment).
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
}
