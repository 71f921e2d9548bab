/** The one redactor: URLs, key=value strings, registered secrets in every encoded form. */
import { describe, expect, it } from 'vitest';
import { redact, redactUrl, registerSecret } from '../../src/util/redact.js';

describe('redact: URLs', () => {
  it.each([
    ['postgres://u:hunter2@h:5432/db', 'postgres://u:***@h:5432/db'],
    ['postgresql://app:s3cr%40t@db.example/app?sslmode=require', 'postgresql://app:***@db.example/app?sslmode=require'],
    ['failed: connect to postgres://u:x@h/db refused', 'failed: connect to postgres://u:***@h/db refused'],
    ['mysql://root:toor@localhost/app', 'mysql://root:***@localhost/app'],
    ['postgres://:only-pw@h/db', 'postgres://:***@h/db'],
    ['a postgres://a:1@h/x and postgres://b:2@h/y', 'a postgres://a:***@h/x and postgres://b:***@h/y'],
  ])('%s', (text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  it('masks a password holding an unencoded @ whole', () => {
    expect(redact('postgres://u:p@ss@word@h/db')).toBe('postgres://u:***@h/db');
  });

  it('leaves URLs without a password alone', () => {
    for (const text of [
      'postgres://u@h:5432/db',
      'postgres://h:5432/db',
      'https://example.com/a:b',
      'see user@example.com',
    ]) {
      expect(redact(text)).toBe(text);
    }
  });
});

describe('redact: key=value', () => {
  it.each([
    ['host=h password=secret1 dbname=d', 'host=h password=*** dbname=d'],
    ["host=h password='two words' dbname=d", "host=h password='***' dbname=d"],
    ['host=h password = "q w" x', 'host=h password = "***" x'],
    ['PGPASSWORD=abc123 psql', 'PGPASSWORD=*** psql'],
    ['DB_PASSWORD=abc123', 'DB_PASSWORD=***'],
    ['POSTGRES_PASSWORD: abc123', 'POSTGRES_PASSWORD: ***'],
    ['passwd=abc;other=1', 'passwd=***;other=1'],
    ['?user=u&password=abc123&sslmode=require', '?user=u&password=***&sslmode=require'],
    ['{"user":"u","password":"abc123"}', '{"user":"u","password":"***"}'],
    ["{'password': 'abc123'}", "{'password': '***'}"],
  ])('%s', (text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  it('leaves look-alike keys alone', () => {
    for (const text of [
      'bypass=1',
      'passfile=/home/u/.pgpass',
      'password_encryption=scram-sha-256',
      'compass: north',
    ]) {
      expect(redact(text)).toBe(text);
    }
  });

  it('leaves a path that ends in such a name alone (the message after it is not a secret)', () => {
    for (const text of [
      '--dir /etc/passwd: is a file, not a folder',
      'cannot read /home/u/.local/share/pgstore/password: permission denied',
      'C:\\pgstore\\password: permission denied',
    ]) {
      expect(redact(text)).toBe(text);
    }
  });
});

describe('redact: registered secrets', () => {
  it('masks a registered secret anywhere', () => {
    registerSecret('Tr0ub4dor-a1');
    expect(redact('the key is Tr0ub4dor-a1, twice: Tr0ub4dor-a1')).toBe('the key is ***, twice: ***');
  });

  it('masks its URL-encoded forms', () => {
    const secret = 'p@ss w/rd:+&é-b2';
    registerSecret(secret);
    const component = encodeURIComponent(secret);
    expect(redact(`x ${component} y`)).toBe('x *** y');
    const lowerHex = component.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
    expect(lowerHex).not.toBe(component);
    expect(redact(`x ${lowerHex} y`)).toBe('x *** y');
    expect(redact(`x ${new URLSearchParams({ k: secret }).toString().slice(2)} y`)).toBe('x *** y');
    const url = new URL('postgres://u@h/db');
    url.password = secret;
    expect(redact(`opaque ${url.password} path`)).toBe('opaque *** path');
  });

  it('masks a secret that contains another one whole', () => {
    registerSecret('abcd-c3');
    registerSecret('abcd-c3-and-more');
    expect(redact('v=abcd-c3-and-more.')).toBe('v=***.');
    expect(redact('v=abcd-c3.')).toBe('v=***.');
  });

  it('ignores empty and very short secrets (they would mask ordinary text)', () => {
    registerSecret('');
    registerSecret(undefined);
    registerSecret(null);
    registerSecret('ab');
    expect(redact('ab cab')).toBe('ab cab');
  });
});

describe('redactUrl', () => {
  it('masks the password and keeps the rest', () => {
    expect(redactUrl('postgres://u:pw-r1@db.example:5432/app?sslmode=require')).toBe(
      'postgres://u:***@db.example:5432/app?sslmode=require',
    );
  });

  it('masks password query parameters', () => {
    expect(redactUrl('postgres://u@h/db?password=pw-r2&x=1')).toBe('postgres://u@h/db?password=***&x=1');
    expect(redactUrl('postgres://u@h/db?pass=pw-r3')).toBe('postgres://u@h/db?pass=***');
  });

  it('leaves a URL without a password unchanged', () => {
    expect(redactUrl('postgres://u@h:5432/db')).toBe('postgres://u@h:5432/db');
  });

  it('masks the user-info of text that does not parse as a URL', () => {
    expect(redactUrl('postgres://u:pw#r4@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://u:pw/r5@h:99999/db')).toBe('postgres://u:***@h:99999/db');
    expect(redactUrl('postgres:u:pw-r6@h/db')).toBe('postgres:***@h/db');
    expect(redactUrl('u:pw-r7@h/db')).toBe('u:***@h/db');
  });

  it('leaves text without user-info alone', () => {
    expect(redactUrl('not a url')).toBe('not a url');
    expect(redactUrl('postgres://h:99999/db')).toBe('postgres://h:99999/db');
  });
});
