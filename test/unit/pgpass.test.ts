/** The password file: libpq's matching rules and its refusal of readable files. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupPgpass, matchPgpass, pgpassPath, type PgpassQuery } from '../../src/db/pgpass.js';

const Q: PgpassQuery = { host: 'db.example', port: 5432, database: 'app', user: 'alice' };

describe('matchPgpass', () => {
  it('matches all four fields exactly', () => {
    expect(matchPgpass('db.example:5432:app:alice:pw1', Q)).toBe('pw1');
    expect(matchPgpass('db.example:5433:app:alice:pw1', Q)).toBeUndefined();
    expect(matchPgpass('db.example:5432:app:bob:pw1', Q)).toBeUndefined();
    expect(matchPgpass('db.example:5432:other:alice:pw1', Q)).toBeUndefined();
    expect(matchPgpass('other:5432:app:alice:pw1', Q)).toBeUndefined();
    expect(matchPgpass('db.example.org:5432:app:alice:pw1', Q)).toBeUndefined();
  });

  it.each([
    ['*:5432:app:alice:w'],
    ['db.example:*:app:alice:w'],
    ['db.example:5432:*:alice:w'],
    ['db.example:5432:app:*:w'],
    ['*:*:*:*:w'],
  ])('a * field matches anything: %s', (line) => {
    expect(matchPgpass(line, Q)).toBe('w');
  });

  it('* is a whole-field wildcard, not a glob', () => {
    expect(matchPgpass('db.*:5432:app:alice:w', Q)).toBeUndefined();
    expect(matchPgpass('**:5432:app:alice:w', Q)).toBeUndefined();
  });

  it('an escaped \\* is a literal star, not a wildcard', () => {
    expect(matchPgpass('db.example:5432:\\*:alice:w', Q)).toBeUndefined();
    expect(matchPgpass('db.example:5432:\\*:alice:w', { ...Q, database: '*' })).toBe('w');
  });

  it('the first matching line wins', () => {
    const text = ['other:*:*:*:no', 'db.example:5432:app:alice:first', '*:*:*:*:second'].join('\n');
    expect(matchPgpass(text, Q)).toBe('first');
    expect(matchPgpass(['*:*:*:*:general', 'db.example:5432:app:alice:specific'].join('\n'), Q)).toBe('general');
  });

  it('skips comments, blank lines and lines with too few fields; handles CRLF', () => {
    const text = [
      '# db.example:5432:app:alice:commented',
      '',
      '   ',
      'db.example:5432:app:alice',
      'db.example:5432:app:alice:crlf',
      '',
    ].join('\r\n');
    expect(matchPgpass(text, Q)).toBe('crlf');
  });

  it('unescapes \\: and \\\\ in fields and in the password', () => {
    expect(matchPgpass('db.example:5432:app:alice:p\\:w\\\\d', Q)).toBe('p:w\\d');
    expect(matchPgpass('fe80\\:\\:1:5432:app:alice:v6', { ...Q, host: 'fe80::1' })).toBe('v6');
    expect(matchPgpass('db.example:5432:a\\:b:alice:colon', { ...Q, database: 'a:b' })).toBe('colon');
    expect(matchPgpass('/var/run/postgresql:5432:app:alice:sock', { ...Q, host: '/var/run/postgresql' })).toBe('sock');
  });

  it('the password ends at the next unescaped colon, as in libpq', () => {
    expect(matchPgpass('db.example:5432:app:alice:pw:extra', Q)).toBe('pw');
  });

  it('an empty password field is an empty password', () => {
    expect(matchPgpass('db.example:5432:app:alice:', Q)).toBe('');
  });

  it('keeps spaces, which are part of the fields', () => {
    expect(matchPgpass('db.example:5432:app:alice: spaced pw ', Q)).toBe(' spaced pw ');
    expect(matchPgpass(' db.example:5432:app:alice:x', Q)).toBeUndefined();
  });
});

describe('lookupPgpass', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgstore-pgpass-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, mode: number): string {
    const path = join(dir, name);
    writeFileSync(path, 'db.example:5432:app:alice:from-file\n');
    chmodSync(path, mode);
    return path;
  }

  it('reads a file only its owner can read', () => {
    expect(lookupPgpass(file('owner-rw', 0o600), Q)).toBe('from-file');
    expect(lookupPgpass(file('owner-r', 0o400), Q)).toBe('from-file');
  });

  it.each([0o640, 0o604, 0o610, 0o601, 0o620, 0o602, 0o644, 0o666])('ignores a file with mode %o', (mode) => {
    expect(lookupPgpass(file(`mode-${mode.toString(8)}`, mode), Q)).toBeUndefined();
  });

  it('ignores a missing file and a directory', () => {
    expect(lookupPgpass(join(dir, 'missing'), Q)).toBeUndefined();
    const sub = join(dir, 'a-dir');
    mkdirSync(sub, { mode: 0o700 });
    chmodSync(sub, 0o700);
    expect(lookupPgpass(sub, Q)).toBeUndefined();
  });

  it('returns undefined when nothing matches', () => {
    expect(lookupPgpass(file('nomatch', 0o600), { ...Q, user: 'bob' })).toBeUndefined();
  });
});

describe('pgpassPath', () => {
  it('PGPASSFILE, else ~/.pgpass in the given home', () => {
    expect(pgpassPath({ PGPASSFILE: '/etc/custom' }, '/home/u')).toBe('/etc/custom');
    expect(pgpassPath({}, '/home/u')).toBe('/home/u/.pgpass');
    expect(pgpassPath({ PGPASSFILE: '' }, '/home/u')).toBe('/home/u/.pgpass');
  });
});
