/**
 * `pgstore seed`: one entry for the three kinds of seeding — the built-in data set, a user's
 * seed SQL (--file), and bulk synthetic data (--synthetic).
 */
import { type FixtureOptions, seedFixtures } from './fixtures.js';
import { type SeedFileOptions, seedFromFile } from './files.js';
import { seedSynthetic, type SyntheticOptions } from './synthetic.js';
import type { SeedResult } from '../../types/seed.js';

export type { SeedResult } from '../../types/seed.js';

export type SeedRequest =
  | ({ kind: 'fixtures' } & FixtureOptions)
  | ({ kind: 'file' } & SeedFileOptions)
  | ({ kind: 'synthetic' } & SyntheticOptions);

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
