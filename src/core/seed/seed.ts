/**
 * `pgstore seed`: one entry for the three kinds of seeding — the built-in data set, a user's
 * seed SQL (--file), and bulk synthetic data (--synthetic).
 */
import { type FixtureOptions, type FixtureResult, seedFixtures } from './fixtures.js';
import { type SeedFileOptions, type SeedFileResult, seedFromFile } from './files.js';
import { seedSynthetic, type SyntheticOptions, type SyntheticResult } from './synthetic.js';

export type SeedRequest =
  | ({ kind: 'fixtures' } & FixtureOptions)
  | ({ kind: 'file' } & SeedFileOptions)
  | ({ kind: 'synthetic' } & SyntheticOptions);

export type SeedResult =
  | { kind: 'fixtures'; result: FixtureResult }
  | { kind: 'file'; result: SeedFileResult }
  | { kind: 'synthetic'; result: SyntheticResult };

/** Seeds the target database as asked. */
export async function seed(request: SeedRequest): Promise<SeedResult> {
  switch (request.kind) {
    case 'fixtures':
      return { kind: 'fixtures', result: await seedFixtures(request) };
    case 'file':
      return { kind: 'file', result: await seedFromFile(request) };
    case 'synthetic':
      return { kind: 'synthetic', result: await seedSynthetic(request) };
  }
}
