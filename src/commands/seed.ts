/**
 * `pgstore seed`: development fixtures, a user's seed SQL, or bulk synthetic data.
 */
import { Command, Option } from 'commander';
import type { SeedRequest, SeedResult } from '../core/seed/index.js';
import { UsageError } from '../errors.js';
import { describeSeed } from '../ui/seed-view.js';
import { seedJson } from '../ui/json-views.js';
import { action, type CommandContext, examples } from './context.js';
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

/**
 * What the flags ask for; synthetic-only flags without --synthetic are a usage error, found
 * before `base` (the connection) is asked for.
 */
export function seedRequest(flags: SeedFlags, baseOf: () => Omit<SeedRequest, 'kind'>): SeedRequest {
  const syntheticOnly = (['users', 'tenants', 'hosts', 'eventsPerHost', 'randomSeed'] as const).filter(
    (k) => flags[k] !== undefined,
  );
  if (flags.synthetic && flags.file)
    throw new UsageError('--synthetic and --file do not go together', { hint: 'Run them one after the other.' });
  if (!flags.synthetic && syntheticOnly.length) {
    throw new UsageError(
      `${syntheticOnly.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} ${syntheticOnly.length === 1 ? 'needs' : 'need'} --synthetic`,
      { hint: 'e.g. pgstore seed --synthetic --hosts 10000' },
    );
  }
  const common = { ...baseOf(), force: !!flags.force, forceProduction: !!flags.forceProduction };
  if (flags.synthetic) {
    return {
      kind: 'synthetic',
      ...common,
      users: flags.users,
      tenants: flags.tenants,
      hosts: flags.hosts,
      eventsPerHost: flags.eventsPerHost,
      randomSeed: flags.randomSeed,
    };
  }
  if (flags.file) return { kind: 'file', ...common, path: flags.file };
  return { kind: 'fixtures', ...common, set: flags.env, adminEmail: flags.adminEmail };
}

export function seedCommand(ctx: CommandContext): Command {
  const command = new Command('seed')
    .description('load the development data set, your own seed SQL (--file), or bulk synthetic data (--synthetic)')
    .addOption(new Option('--env <set>', 'which built-in data set').choices(['development', 'test']))
    .option(
      '--admin-email <email>',
      'the admin user (else PGSTORE_ADMIN_EMAIL; password from PGSTORE_ADMIN_PASSWORD, else generated and shown once)',
    )
    .option(
      '--file <path>',
      'run a .sql file, or a folder of them in name order, in one transaction (recorded; runs once)',
    )
    .option('--synthetic', 'bulk synthetic data with COPY, the same --random-seed giving the same rows')
    .addOption(
      new Option('--users <n>', 'synthetic users (default 1000)').argParser(wholeNumber('--users', 0, 100_000_000)),
    )
    .addOption(
      new Option('--tenants <n>', 'synthetic tenants (default 10)').argParser(wholeNumber('--tenants', 0, 1_000_000)),
    )
    .addOption(
      new Option(
        '--hosts <n>',
        'synthetic hosts, each with its own events (default 1000; about 2% end deleted)',
      ).argParser(wholeNumber('--hosts', 0, 100_000_000)),
    )
    .addOption(
      new Option('--events-per-host <k>', 'events per synthetic host (default 5)').argParser(
        wholeNumber('--events-per-host', 1, 10_000),
      ),
    )
    .option('--random-seed <seed>', "synthetic data's random seed (default 'pgstore')")
    .option('--force', 'run a seed again although it changed since it was applied')
    .option('--force-production', 'allow seeding a database marked production')
    .action(
      action(ctx, {
        load: () => import('../core/seed/index.js'),
        call: async (seed, io, flags: SeedFlags): Promise<SeedResult> => {
          const request = seedRequest(flags, () => io.core());
          const { countProgressFor } = await import('../ui/progress-sink.js');
          const bar = request.kind === 'synthetic' ? await countProgressFor(io.out, 'Loading', 'rows') : undefined;
          if (request.kind === 'synthetic' && bar)
            request.onProgress = (done, total, phase) => bar.update(done, total, phase);
          try {
            return await seed.seed(request);
          } finally {
            bar?.done();
          }
        },
        json: (out, seeded) => out.json(seedJson(seeded)),
        text: (out, seeded) => describeSeed(out, seeded),
      }),
    );
  return examples(command, [
    'pgstore seed',
    'PGSTORE_ADMIN_PASSWORD=... pgstore seed --admin-email me@example.com',
    'pgstore seed --file db/seeds/',
    'pgstore seed --synthetic --hosts 100000 --events-per-host 10 --random-seed 42',
  ]);
}
