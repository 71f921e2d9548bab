/**
 * What `pgstore seed` (and `setup --seed`) report: core/seed produces it, ui/seed-view.ts draws it.
 */

export interface FixtureResult {
  set: string;
  created: string[];
  skipped: string[];
  /** Secrets made by this run, shown once: the admin password (if generated) and the API key. */
  secrets: { adminPassword?: string; apiKey?: string };
  adminEmail: string;
  durationMs: number;
}

export interface SeedFileResult {
  name: string;
  files: string[];
  sha256: string;
  status: 'applied' | 'reapplied' | 'skipped';
  appliedAt: string;
  durationMs: number;
}

export interface SyntheticResult {
  randomSeed: string;
  /** Rows inserted per table (the hosts projection: live entries). */
  rows: Record<string, number>;
  totalRows: number;
  seconds: number;
  rowsPerSecond: number;
}

export type SeedResult =
  | { kind: 'fixtures'; result: FixtureResult }
  | { kind: 'file'; result: SeedFileResult }
  | { kind: 'synthetic'; result: SyntheticResult };
