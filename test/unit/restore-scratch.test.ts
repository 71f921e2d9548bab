import { describe, expect, it } from 'vitest';
import { isScratchOf } from '../../src/core/restore.js';

describe('isScratchOf', () => {
  it("knows a database's scratch copies, and not another database's", () => {
    expect(isScratchOf('app_pgstore_restore_0123abcd', 'app')).toBe(true);
    expect(isScratchOf('app_pgstore_old_0123abcd', 'app')).toBe(true);
    expect(isScratchOf('app_pgstore_restore_0123abcd', 'app2')).toBe(false);
    expect(isScratchOf('app2_pgstore_restore_0123abcd', 'app')).toBe(false);
    expect(isScratchOf('app_pgstore_restore_xyz', 'app')).toBe(false);
    expect(isScratchOf('app', 'app')).toBe(false);
  });

  it('matches the cut-down head of a long name only when the name was cut to fit 63 bytes', () => {
    const long = 'd'.repeat(60);
    const scratch = `${'d'.repeat(38)}_pgstore_restore_0123abcd`;
    expect(Buffer.byteLength(scratch)).toBe(63);
    expect(isScratchOf(scratch, long)).toBe(true);
    expect(isScratchOf(scratch, 'd'.repeat(38))).toBe(true);
    expect(isScratchOf('ddd_pgstore_restore_0123abcd', long)).toBe(false);
  });
});
