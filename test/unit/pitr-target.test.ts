import { describe, expect, it } from 'vitest';
import { parseTargetTime, targetInstant } from '../../src/core/backup/pitr/target.js';
import { UsageError } from '../../src/errors.js';

describe('--to-time', () => {
  it('is passed on in the one form pgBackRest and PostgreSQL both read, digits kept as written', () => {
    expect(parseTargetTime('2026-01-02T03:04:05Z')).toBe('2026-01-02 03:04:05+00');
    expect(parseTargetTime(' 2026-01-02 03:04:05.123456+00 ')).toBe('2026-01-02 03:04:05.123456+00');
    expect(parseTargetTime('2026-01-02 03:04+05:30')).toBe('2026-01-02 03:04:00+05:30');
    expect(parseTargetTime('2026-01-02 03:04:05 -0800')).toBe('2026-01-02 03:04:05-0800');
  });

  it('needs a zone (the server would read a bare time in its own TimeZone)', () => {
    for (const bad of [
      '2026-01-02 03:04:05',
      'yesterday',
      '2026-01-02',
      '03:04:05+00',
      "2026-01-02 03:04:05+00'; drop table x",
    ]) {
      expect(() => parseTargetTime(bad)).toThrow(UsageError);
    }
  });

  it('names the instant it means, microseconds and offsets included', () => {
    expect(targetInstant(parseTargetTime('2026-01-02 03:04:05.250+00'))).toBe(Date.parse('2026-01-02T03:04:05.250Z'));
    expect(targetInstant(parseTargetTime('2026-01-02 08:34+05:30'))).toBe(Date.parse('2026-01-02T03:04:00Z'));
    expect(targetInstant(parseTargetTime('2026-01-01 19:04:05-0800'))).toBe(Date.parse('2026-01-02T03:04:05Z'));
  });
});
