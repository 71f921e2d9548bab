/**
 * A seed result for people: shared by `pgstore seed` and `pgstore setup --seed`.
 */
import type { SeedResult } from '../types/seed.js';
import type { Output } from './output.js';
import { plural } from '../util/format.js';

/** Prints a seed result for people. */
export function describeSeed(out: Output, seeded: SeedResult): void {
  if (seeded.kind === 'fixtures') {
    const r = seeded.result;
    out.result(
      `Seeded the ${r.set} data set: ${r.created.length} created${r.skipped.length ? `, ${r.skipped.length} already there` : ''} (${r.durationMs} ms).`,
    );
    if (r.created.length) out.result(`  created: ${r.created.join(', ')}`);
    if (r.skipped.length) out.result(`  skipped: ${r.skipped.join(', ')}`);
    if (r.secrets.adminPassword)
      out.essential(`Password for ${r.adminEmail} (shown once; store it now): ${r.secrets.adminPassword}`);
    if (r.secrets.apiKey) out.essential(`API key secret (shown once; store it now): ${r.secrets.apiKey}`);
  } else if (seeded.kind === 'file') {
    const r = seeded.result;
    out.result(
      r.status === 'skipped'
        ? `Skipped ${r.name}: already applied on ${r.appliedAt} (unchanged).`
        : `${r.status === 'applied' ? 'Applied' : 'Re-applied'} ${r.name} (${plural(r.files.length, 'file')}) in ${r.durationMs} ms.`,
    );
  } else {
    const r = seeded.result;
    out.result(
      `Loaded ${r.totalRows.toLocaleString('en-US')} synthetic rows (seed '${r.randomSeed}') in ${r.seconds} s, ${r.rowsPerSecond.toLocaleString('en-US')} rows/s:`,
    );
    for (const [table, rows] of Object.entries(r.rows))
      out.result(`  ${table.padEnd(22)} ${rows.toLocaleString('en-US')}`);
  }
}
