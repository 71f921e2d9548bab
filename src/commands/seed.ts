/**
 * `pgstore seed`: development fixtures, a user's seed SQL, or bulk synthetic data.
 */
import { Command, Option } from 'commander';
import type { SeedRequest, SeedResult } from '../core/seed/index.js';
import { UsageError } from '../errors.js';
import type { Output } from '../ui/output.js';
import { type App, examples } from './app.js';
import { wholeNumber } from './parse.js';

interface SeedFlags {
  env?: 'development' | 'test';
  adminEmail?: string;
  file?: string;
  synthetic?: boolean;
  users?: number;
  tenants?: number;
  hosts?: number;
  eventsPerHost?: number;
  randomSeed?: string;
  force?: boolean;
  forceProduction?: boolean;
}

/** What the flags ask for; synthetic-only flags without --synthetic are a usage error. */
export function seedRequest(flags: SeedFlags, base: Omit<SeedRequest, 'kind'>): SeedRequest {
  const syntheticOnly = (['users', 'tenants', 'hosts', 'eventsPerHost', 'randomSeed'] as const).filter((k) => flags[k] !== undefined);
  if (flags.synthetic && flags.file) throw new UsageError('--synthetic and --file do not go together', { hint: 'Run them one after the other.' });
  if (!flags.synthetic && syntheticOnly.length) {
    throw new UsageError(`${syntheticOnly.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} ${syntheticOnly.length === 1 ? 'needs' : 'need'} --synthetic`, { hint: 'e.g. pgstore seed --synthetic --hosts 10000' });
  }
  const common = { ...base, force: !!flags.force, forceProduction: !!flags.forceProduction };
  if (flags.synthetic) {
    return { kind: 'synthetic', ...common, users: flags.users, tenants: flags.tenants, hosts: flags.hosts, eventsPerHost: flags.eventsPerHost, randomSeed: flags.randomSeed };
  }
  if (flags.file) return { kind: 'file', ...common, path: flags.file };
  return { kind: 'fixtures', ...common, set: flags.env, adminEmail: flags.adminEmail };
}

/** Prints a seed result for people. */
export function describeSeed(out: Output, seeded: SeedResult): void {
  if (seeded.kind === 'fixtures') {
    const r = seeded.result;
    out.result(`Seeded the ${r.set} data set: ${r.created.length} created, ${r.skipped.length} already there (${r.durationMs} ms).`);
    if (r.created.length) out.result(`  created: ${r.created.join(', ')}`);
    if (r.skipped.length) out.result(`  skipped: ${r.skipped.join(', ')}`);
    if (r.secrets.adminPassword) out.essential(`Password for ${r.adminEmail} (shown once; store it now): ${r.secrets.adminPassword}`);
    if (r.secrets.apiKey) out.essential(`API key secret (shown once; store it now): ${r.secrets.apiKey}`);
  } else if (seeded.kind === 'file') {
    const r = seeded.result;
    out.result(r.status === 'skipped' ? `Skipped ${r.name}: already applied on ${r.appliedAt} (unchanged).` : `${r.status === 'applied' ? 'Applied' : 'Re-applied'} ${r.name} (${r.files.length} file(s)) in ${r.durationMs} ms.`);
  } else {
    const r = seeded.result;
    out.result(`Loaded ${r.totalRows.toLocaleString('en-US')} synthetic rows (seed '${r.randomSeed}') in ${r.seconds} s, ${r.rowsPerSecond.toLocaleString('en-US')} rows/s:`);
    for (const [table, rows] of Object.entries(r.rows)) out.result(`  ${table.padEnd(22)} ${rows.toLocaleString('en-US')}`);
  }
}

export function seedCommand(app: App): Command {
  const command = new Command('seed')
    .description('load the development data set, your own seed SQL (--file), or bulk synthetic data (--synthetic)')
    .addOption(new Option('--env <set>', 'which built-in data set').choices(['development', 'test']))
    .option('--admin-email <email>', 'the admin user (else PGSTORE_ADMIN_EMAIL; password from PGSTORE_ADMIN_PASSWORD, else generated and shown once)')
    .option('--file <path>', 'run a .sql file, or a folder of them in name order, in one transaction (recorded; runs once)')
    .option('--synthetic', 'bulk synthetic data with COPY, the same --random-seed giving the same rows')
    .addOption(new Option('--users <n>', 'synthetic users (default 1000)').argParser(wholeNumber('--users', 0, 100_000_000)))
    .addOption(new Option('--tenants <n>', 'synthetic tenants (default 10)').argParser(wholeNumber('--tenants', 0, 1_000_000)))
    .addOption(new Option('--hosts <n>', 'synthetic hosts, each with its own events (default 1000; about 2% end deleted)').argParser(wholeNumber('--hosts', 0, 100_000_000)))
    .addOption(new Option('--events-per-host <k>', 'events per synthetic host (default 5)').argParser(wholeNumber('--events-per-host', 1, 10_000)))
    .option('--random-seed <seed>', "synthetic data's random seed (default 'pgstore')")
    .option('--force', 'run a seed again although it changed since it was applied')
    .option('--force-production', 'allow seeding a database marked production')
    .action(async (flags: SeedFlags) => {
      const out = app.makeOutput();
      const request = seedRequest(flags, app.coreOptions((m) => out.info(m)));
      const { seed } = await import('../core/seed/index.js');
      const { countProgress } = await import('../ui/progress-count.js');
      const json = out.options.progress === 'json' ? (await import('../ui/progress-json.js')).jsonCountProgress(out.stderr, 'loading', 'rows') : undefined;
      const bar = request.kind === 'synthetic' ? (json ?? countProgress(out.stderr, 'Loading', !out.options.quiet && !out.options.json && out.options.progress !== 'none', 'rows')) : undefined;
      if (request.kind === 'synthetic' && bar) request.onProgress = (done, total) => bar.update(done, total);
      let seeded: SeedResult;
      try {
        seeded = await seed(request);
      } finally {
        bar?.done();
      }
      if (out.options.json) out.json(seeded.result);
      else describeSeed(out, seeded);
    });
  return examples(command, [
    'pgstore seed',
    'PGSTORE_ADMIN_PASSWORD=... pgstore seed --admin-email me@example.com',
    'pgstore seed --file db/seeds/',
    'pgstore seed --synthetic --hosts 100000 --events-per-host 10 --random-seed 42',
  ]);
}
