/**
 * `pgstore health`: connectivity, latency, version, size, role and replication, connections,
 * long and idle transactions, wraparound, disk, for people, scripts and monitors.
 */
import { Command, Option } from 'commander';
import { healthThresholds } from '../core/health/index.js';
import type { Limits } from '../core/health/index.js';
import { UsageError } from '../errors.js';
import { action, type ActionIO, backupDirHelp, type CommandContext, examples } from './context.js';
import { creatableFolder, decimalNumber, existingFolder, wholeNumber } from './parse.js';

const camel = (key: string) => key.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());

/** A number ≥ 0, or > 0 with `nonZero` (a plain decimal, at most the largest exact integer). */
const positiveNumber = (flag: string, nonZero = false) => decimalNumber(flag, { nonZero });
/** Node's timers hold at most 2^31-1 ms (about 24.8 days); a day is plenty for a health check. */
const MAX_TIMEOUT_SECONDS = 86_400;

/** Threshold overrides from the flags; a critical limit better than its warning is a UsageError. */
function limitsOf(opts: Record<string, unknown>): Limits {
  const limits: Limits = {};
  for (const t of healthThresholds()) {
    const warning = opts[camel(`${t.key}-warning`)] as number | undefined;
    const critical = opts[camel(`${t.key}-critical`)] as number | undefined;
    if (warning === undefined && critical === undefined) continue;
    const limit = { warning: warning ?? t.warning, critical: critical ?? t.critical };
    // "above" checks get worse as the value grows (critical ≥ warning); "below" ones, the other way.
    if (t.direction === 'above' ? limit.critical < limit.warning : limit.critical > limit.warning) {
      throw new UsageError(
        `--${t.key}-critical (${limit.critical}) must be ${t.direction === 'above' ? 'at least' : 'at most'} --${t.key}-warning (${limit.warning})`,
        {
          hint: `${t.description}: ${t.direction === 'above' ? 'higher' : 'lower'} is worse (defaults: warning ${t.warning}, critical ${t.critical}).`,
        },
      );
    }
    limits[t.key] = limit;
  }
  return limits;
}

type HealthCore = typeof import('../core/health/index.js');

/** Runs the checks with the flags' thresholds and folders; loads the renderer the format needs. */
async function checkHealth(health: HealthCore, io: ActionIO, opts: Record<string, unknown>) {
  const limits = limitsOf(opts);
  // The last_backup check reads the folder from PGSTORE_BACKUP_DIR; unset, it does not run.
  const folder = health.healthBackupDir(opts.backupDir as string | undefined, io.env);
  const env = { ...io.env, PGSTORE_BACKUP_DIR: folder?.dir };
  const report = await health.runHealth({
    ...io.core(),
    env,
    timeoutSeconds: opts.timeout as number,
    limits,
    migrationsDir: opts.migrationsDir as string | undefined,
    expectedReplicas: opts.expectedReplicas as number | undefined,
    backupDirIsDefault: folder !== undefined && !folder.chosen,
  });
  const format = io.out.options.json ? 'json' : (opts.format as string);
  // The renderers of the table and the nagios line (JSON needs neither).
  const view = format === 'json' ? undefined : await import('../ui/health-view.js');
  return { report, format, view };
}

/** --<check>-warning and --<check>-critical for every threshold. */
function addThresholdOptions(command: Command): void {
  for (const t of healthThresholds()) {
    command.addOption(
      new Option(`--${t.key}-warning <${t.unit}>`, `warn at this ${t.description} (default ${t.warning})`).argParser(
        positiveNumber(`--${t.key}-warning`),
      ),
    );
    command.addOption(
      new Option(
        `--${t.key}-critical <${t.unit}>`,
        `critical at this ${t.description} (default ${t.critical})`,
      ).argParser(positiveNumber(`--${t.key}-critical`)),
    );
  }
}

export function healthCommand(ctx: CommandContext): Command {
  const command = new Command('health')
    .description(
      'check the database: connection, latency, version, size, replicas, standby lag, slots, WAL archiver, connections, transactions, wraparound, disk',
    )
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json', 'nagios']).default('table'))
    .option(
      '--migrations-dir <dir>',
      "compare against these migrations (default: pgstore's own)",
      existingFolder('--migrations-dir', 'migrations folder'),
    )
    .option(
      '--expected-replicas <n>',
      'critical when fewer replicas than this stream from the server',
      wholeNumber('--expected-replicas', 0, 1000),
    )
    .option(
      '--backup-dir <dir>',
      backupDirHelp(ctx.env, 'check the age of the newest backup here', { ifExists: true }),
      creatableFolder('--backup-dir'),
    )
    .addOption(
      new Option('--timeout <seconds>', 'give up (critical) after this many seconds')
        .default(10)
        .argParser(decimalNumber('--timeout', { nonZero: true, max: MAX_TIMEOUT_SECONDS })),
    );
  addThresholdOptions(command);
  command.action(
    action(ctx, {
      load: () => import('../core/health/index.js'),
      call: checkHealth,
      json: false, // --json is --format json
      text: async (out, { report, format, view }) => {
        if (!view) out.json(report);
        else if (format === 'nagios') out.raw(`${view.nagiosLine(report)}\n`);
        else if (!out.options.quiet || report.status !== 'ok') out.raw(`${await view.healthTable(out, report)}\n`);
      },
      exitCode: ({ report, format, view }) =>
        format === 'nagios' && view ? view.nagiosExitCode(report) : report.status === 'critical' ? 1 : 0,
    }),
  );
  return examples(command, [
    'pgstore health',
    'pgstore health --json',
    'pgstore health --format nagios --connections-warning 70 --connections-critical 90',
    'pgstore health --timeout 3 -d postgres://monitor@db.internal/app',
    'pgstore health --format nagios --expected-replicas 2 --replication-lag-mb-warning 256',
  ]);
}
