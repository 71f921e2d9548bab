import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { pageOf } from '../../src/store/paging.js';

describe('pageOf', () => {
  it('gives all rows from the start when nothing is asked', () => {
    expect(pageOf()).toEqual({ limit: null, offset: 0 });
    expect(pageOf({ limit: 0, offset: 5 })).toEqual({ limit: 0, offset: 5 });
  });

  it('applies a default and a ceiling when the list has rules', () => {
    const rules = { defaultLimit: 50, maxLimit: 1000 };
    expect(pageOf({}, rules)).toEqual({ limit: 50, offset: 0 });
    expect(pageOf({ limit: 5000, offset: 10 }, rules)).toEqual({ limit: 1000, offset: 10 });
    expect(pageOf({ limit: 7 }, rules)).toEqual({ limit: 7, offset: 0 });
  });

  it.each([
    [{ limit: -1 }, 'limit'],
    [{ limit: 1.5 }, 'limit'],
    [{ limit: Number.NaN }, 'limit'],
    [{ offset: -3 }, 'offset'],
    [{ offset: Number.POSITIVE_INFINITY }, 'offset'],
    [{ limit: '10' as unknown as number }, 'limit'],
  ])('refuses %o naming the field', (options, field) => {
    expect(() => pageOf(options)).toThrow(ValidationError);
    expect(() => pageOf(options, { defaultLimit: 50 })).toThrow(expect.objectContaining({ field }));
  });
});
