import { describe, expect, it } from 'vitest';
import { plural } from '../../src/util/format.js';

describe('plural', () => {
  it('agrees with the number: 1 entry, 0 and 2 entries; -ies only after a consonant', () => {
    expect([0, 1, 2].map((n) => plural(n, 'entry'))).toEqual(['0 entries', '1 entry', '2 entries']);
    expect(plural(1, 'backup')).toBe('1 backup');
    expect(plural(3, 'backup')).toBe('3 backups');
    expect(plural(2, 'day')).toBe('2 days');
    expect(plural(2, 'index', 'indexes')).toBe('2 indexes');
  });
});
