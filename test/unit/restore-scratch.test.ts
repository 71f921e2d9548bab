import { describe, expect, it } from 'vitest';
import { isScratchOf, scratchName } from '../../src/core/restore/scratch-names.js';

describe('scratch databases of a restore', () => {
  it("are told from another database's, even one sharing a long prefix", () => {
    for (const database of [
      'app',
      'analytics_events_archive_2024_europe',
      'customer_data_warehouse_replica_tenant_0001',
      'd'.repeat(63),
      'ünïcødé_naming_of_a_database_with_long_words_x',
    ]) {
      for (const purpose of ['restore', 'old'] as const) {
        const name = scratchName(database, purpose);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
        expect(isScratchOf(name, database)).toBe(true);
      }
    }
    const a = 'customer_data_warehouse_replica_tenant_0001';
    const b = 'customer_data_warehouse_replica_tenant_0002';
    expect(isScratchOf(scratchName(a, 'restore'), b)).toBe(false);
    expect(
      isScratchOf(
        scratchName('analytics_events_archive_2024_europe', 'old'),
        'analytics_events_archive_2024_europe_v2',
      ),
    ).toBe(false);
    expect(isScratchOf(scratchName('app', 'restore'), 'app2')).toBe(false);
    expect(isScratchOf(scratchName('app2', 'restore'), 'app')).toBe(false);
  });

  it('ignores names that merely look alike', () => {
    expect(isScratchOf('app', 'app')).toBe(false);
    expect(isScratchOf('app_pgstore_restore_xyz', 'app')).toBe(false);
    expect(isScratchOf('app_pgstore_restore_0123abcd', 'app')).toBe(false); // no tag of app's name
  });
});
