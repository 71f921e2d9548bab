/**
 * resolveConnection: bad input (exit 2, every problem at once, the bad part named, never the
 * password), pool settings, and the embedded target (home, port, resolveEmbedded).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectionTarget,
  DEFAULT_POOL,
  embeddedHome,
  type Env,
  resolveConnection,
  resolveEmbedded,
} from '../../src/db/config.js';
import { ConfigError, ExitCode } from '../../src/errors.js';

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'pgstore-config-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

function resolve(env: Env, databaseUrl?: string, isRoot = false): ConnectionTarget {
  return resolveConnection({ env, databaseUrl, homeDir: home, isRoot });
}

function failure(env: Env, databaseUrl?: string): ConfigError {
  try {
    resolve(env, databaseUrl);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.exitCode).toBe(ExitCode.usage);
    expect(configError.exitCode).toBe(2);
    expect(configError.message).toBe(configError.problems.join('; '));
    return configError;
  }
  throw new Error('expected a ConfigError');
}

describe('bad URLs', () => {
  it('text that is not a URL', () => {
    const error = failure({ DATABASE_URL: 'not a url' });
    expect(error.problems).toEqual([
      "DATABASE_URL is not a URL: 'not a url' (expected postgres://user@host:port/database)",
    ]);
  });

  it('a scheme without // is not a URL either', () => {
    expect(failure({}, 'postgres:db.example/app').problems).toEqual([
      "--database-url is not a URL: 'postgres:db.example/app' (expected postgres://user@host:port/database)",
    ]);
  });

  it('an unsupported scheme', () => {
    expect(failure({}, 'mysql://root@localhost/app').problems).toEqual([
      "--database-url: unsupported scheme 'mysql' (use postgres:// or postgresql://)",
    ]);
  });

  it.each([
    ['postgres://localhost:99999/x', '--database-url: port 99999 is out of range (1-65535)'],
    ['postgres://u:pw-port-1@[::1]:70000/x', '--database-url: port 70000 is out of range (1-65535)'],
    ['postgres://localhost:0/x', '--database-url: port 0 is out of range (1-65535)'],
    ['postgres://localhost:abc/x', "--database-url: port 'abc' is not a number (expected 1-65535)"],
    ['postgres://localhost/x?port=99999', '--database-url: port 99999 is out of range (1-65535)'],
  ])('a bad port in %s', (url, message) => {
    expect(failure({}, url).problems).toEqual([message]);
  });

  it('a bad PGPORT is named', () => {
    expect(failure({ PGHOST: 'h', PGPORT: '5432x' }).problems).toEqual([
      "PGPORT: port '5432x' is not a number (expected 1-65535)",
    ]);
  });

  it('an unknown sslmode names where it came from', () => {
    expect(failure({}, 'postgres://h/db?sslmode=bogus').problems).toEqual([
      "sslmode (in --database-url): 'bogus' is not one of disable, allow, prefer, require, verify-ca, verify-full",
    ]);
    expect(failure({ PGHOST: 'h', PGSSLMODE: 'on' }).problems).toEqual([
      "PGSSLMODE: 'on' is not one of disable, allow, prefer, require, verify-ca, verify-full",
    ]);
  });

  it('malformed percent-encoding names the part', () => {
    expect(failure({}, 'postgres://u@h/d%zzb').problems).toEqual([
      '--database-url: malformed percent-encoding in the database name',
    ]);
    expect(failure({}, 'postgres://u@h/d?application_name=%zz').problems).toEqual([
      "--database-url: malformed percent-encoding in the value of query parameter 'application_name'",
    ]);
  });

  it('reports every problem at once', () => {
    const error = failure(
      { DB_MAX_CONNECTIONS: 'many', DB_IDLE_TIMEOUT: '-1' },
      'postgres://h:99999/db?sslmode=nope&min_connections=x',
    );
    // The URL does not parse (its port), and its query is still checked (issue 15: all at once).
    expect(error.problems).toEqual([
      '--database-url: port 99999 is out of range (1-65535)',
      "sslmode (in --database-url): 'nope' is not one of disable, allow, prefer, require, verify-ca, verify-full",
      "DB_MAX_CONNECTIONS must be a whole number ≥ 1, got 'many'",
      "DB_IDLE_TIMEOUT must be a number of seconds > 0, got '-1'",
      "min_connections (in --database-url) must be a whole number ≥ 0, got 'x'",
    ]);
    expect(failure({}, 'postgres://u:p?w@host:99999/db?max_connections=abc').problems).toEqual([
      "--database-url is not a URL: 'postgres://u:***@host:99999/db?max_connections=abc' (expected postgres://user@host:port/database)",
      "max_connections (in --database-url) must be a whole number ≥ 1, got 'abc'",
    ]);
    const error2 = failure({ DB_ACQUIRE_TIMEOUT: 'soon' }, 'postgres://h/db?sslmode=nope&min_connections=x');
    expect(error2.problems).toEqual([
      "sslmode (in --database-url): 'nope' is not one of disable, allow, prefer, require, verify-ca, verify-full",
      "DB_ACQUIRE_TIMEOUT must be a number of seconds > 0, got 'soon'",
      "min_connections (in --database-url) must be a whole number ≥ 0, got 'x'",
    ]);
    expect(error2.hint).toMatch(/Configuration/);
  });
});

describe('no message ever shows the password', () => {
  it.each([
    ['mysql://root:pw-Hidden-01@localhost/app', 'pw-Hidden-01'],
    ['postgres://u:pw-Hidden-02@localhost:99999/x', 'pw-Hidden-02'],
    ['postgres://u:pw-Hidden-03@localhost:abc/x', 'pw-Hidden-03'],
    ['postgres://u:pw#Hidden-04@localhost/x', 'Hidden-04'],
    ['postgres://u:pw/Hidden:05@localhost/x', 'Hidden'],
    ['postgres://u:pw?Hidden-06@localhost/x', 'Hidden-06'],
    ['u:pw-Hidden-07@localhost/x', 'pw-Hidden-07'],
    ['postgres:u:pw-Hidden-08@localhost/x', 'pw-Hidden-08'],
    ['postgres://u:pw%zzHidden-09@localhost/x', 'Hidden-09'],
    ['postgres://u:pw-Hidden-10@localhost/x?sslmode=bad&max_connections=x', 'pw-Hidden-10'],
    ['postgres://u@localhost/x?password=pw-Hidden-11&port=0', 'pw-Hidden-11'],
    ['postgres://u@localhost/x?password=pw%zzHidden-12', 'Hidden-12'],
    ['host=localhost password=pw-Hidden-13', 'pw-Hidden-13'],
  ])('%s', (url, secret) => {
    for (const env of [{ DATABASE_URL: url }, { PGHOST: 'h' }]) {
      const error = failure(env, env.DATABASE_URL ? undefined : url);
      expect(error.problems.length).toBeGreaterThan(0);
      expect(error.message).not.toContain(secret);
      expect(String(error)).not.toContain(secret);
      expect(error.hint ?? '').not.toContain(secret);
      for (const problem of error.problems) expect(problem).not.toContain(secret);
    }
  });

  it('a password with an unencoded # still shows the rest of the URL, masked', () => {
    expect(failure({}, 'postgres://u:pw#Hidden-14@db.example/x').problems).toEqual([
      "--database-url is not a URL: 'postgres://u:***@db.example/x' (expected postgres://user@host:port/database)",
    ]);
  });
});

describe('pool settings', () => {
  it('defaults: min 1, max 10, acquire 30 s, idle 10 min', () => {
    expect(DEFAULT_POOL).toEqual({ max: 10, min: 1, acquireTimeoutSeconds: 30, idleTimeoutSeconds: 600 });
    expect(resolve({}, 'postgres://h/db').pool).toEqual(DEFAULT_POOL);
    expect(resolve({}).pool).toEqual(DEFAULT_POOL);
  });

  it('from the DB_* variables, for every kind of target', () => {
    const env = { DB_MAX_CONNECTIONS: '20', DB_MIN_CONNECTIONS: '2', DB_ACQUIRE_TIMEOUT: '5', DB_IDLE_TIMEOUT: '1.5' };
    const expected = { max: 20, min: 2, acquireTimeoutSeconds: 5, idleTimeoutSeconds: 1.5 };
    expect(resolve(env, 'postgres://h/db').pool).toEqual(expected);
    expect(resolve({ ...env, PGHOST: 'h' }).pool).toEqual(expected);
    expect(resolve(env).pool).toEqual(expected);
  });

  it('URL parameters beat the DB_* variables, one by one', () => {
    const env = { DB_MAX_CONNECTIONS: '20', DB_MIN_CONNECTIONS: '2', DB_ACQUIRE_TIMEOUT: '5', DB_IDLE_TIMEOUT: '50' };
    expect(resolve(env, 'postgres://h/db?max_connections=30&idle_timeout=70').pool).toEqual({
      max: 30,
      min: 2,
      acquireTimeoutSeconds: 5,
      idleTimeoutSeconds: 70,
    });
  });

  it('min_connections may be 0; empty variables are unset', () => {
    expect(resolve({ DB_MIN_CONNECTIONS: '0', DB_MAX_CONNECTIONS: '' }).pool).toEqual({ ...DEFAULT_POOL, min: 0 });
  });

  it.each([
    ['max_connections', 'abc', 'a whole number ≥ 1'],
    ['max_connections', '0', 'a whole number ≥ 1'],
    ['max_connections', '2.5', 'a whole number ≥ 1'],
    ['max_connections', '0x10', 'a whole number ≥ 1'],
    ['max_connections', '1e1', 'a whole number ≥ 1'],
    ['max_connections', '', 'a whole number ≥ 1'],
    ['min_connections', '-1', 'a whole number ≥ 0'],
    ['acquire_timeout', '0', 'a number of seconds > 0'],
    ['acquire_timeout', 'Infinity', 'a number of seconds > 0'],
    ['idle_timeout', '10s', 'a number of seconds > 0'],
  ])('%s=%s is refused', (name, value, kind) => {
    expect(failure({}, `postgres://h/db?${name}=${value}`).problems).toEqual([
      `${name} (in --database-url) must be ${kind}, got '${value}'`,
    ]);
  });

  it('min larger than max names the settings it came from', () => {
    expect(failure({}, 'postgres://h/db?min_connections=5&max_connections=3').problems).toEqual([
      'min_connections (in --database-url) (5) is larger than max_connections (in --database-url) (3)',
    ]);
    expect(failure({ DB_MIN_CONNECTIONS: '20' }).problems).toEqual([
      'DB_MIN_CONNECTIONS (20) is larger than the default max_connections (10)',
    ]);
  });
});

describe('the embedded target', () => {
  it('PGSTORE_HOME wins, made absolute', () => {
    expect(embeddedHome({ PGSTORE_HOME: '/srv/pg', XDG_DATA_HOME: '/xdg' }, home, true)).toBe('/srv/pg');
    expect(embeddedHome({ PGSTORE_HOME: 'rel/pg' }, home, false)).toBe(resolvePath('rel/pg'));
  });

  it('as root: /var/lib/pgstore, whatever XDG_DATA_HOME says', () => {
    expect(embeddedHome({ XDG_DATA_HOME: '/xdg' }, home, true)).toBe('/var/lib/pgstore');
    expect((resolve({}, undefined, true) as { home: string }).home).toBe('/var/lib/pgstore');
  });

  it('otherwise XDG_DATA_HOME/pgstore, else ~/.local/share/pgstore', () => {
    expect(embeddedHome({ XDG_DATA_HOME: '/xdg' }, home, false)).toBe('/xdg/pgstore');
    expect(embeddedHome({}, home, false)).toBe(join(home, '.local/share/pgstore'));
    expect(embeddedHome({ XDG_DATA_HOME: '' }, home, false)).toBe(join(home, '.local/share/pgstore'));
    // a relative XDG_DATA_HOME is invalid (XDG spec) and ignored
    expect(embeddedHome({ XDG_DATA_HOME: 'xdg' }, home, false)).toBe(join(home, '.local/share/pgstore'));
  });

  it('PGSTORE_PORT chooses the port, and is validated', () => {
    expect(resolve({ PGSTORE_PORT: '6001' })).toMatchObject({ kind: 'embedded', port: 6001 });
    expect(failure({ PGSTORE_PORT: 'abc' }).problems).toEqual([
      "PGSTORE_PORT: port 'abc' is not a number (expected 1-65535)",
    ]);
    expect(failure({ PGSTORE_PORT: '70000' }).problems).toEqual(['PGSTORE_PORT: port 70000 is out of range (1-65535)']);
    expect(failure({ PGSTORE_PORT: '0' }).problems).toEqual(['PGSTORE_PORT: port 0 is out of range (1-65535)']);
  });

  it('resolveEmbedded ignores DATABASE_URL and the PG* variables, keeps PGSTORE_* and DB_*', () => {
    const env: Env = {
      DATABASE_URL: 'postgres://u:pw-emb-1@db.example/app',
      PGHOST: 'db.example',
      PGPORT: 'not-a-port',
      PGSSLMODE: 'bogus',
      PGSTORE_HOME: join(home, 'emb'),
      PGSTORE_PORT: '6002',
      DB_MAX_CONNECTIONS: '4',
    };
    expect(resolveEmbedded({ env, homeDir: home, isRoot: false })).toEqual({
      kind: 'embedded',
      source: 'embedded',
      home: join(home, 'emb'),
      port: 6002,
      database: 'pgstore',
      pool: { ...DEFAULT_POOL, max: 4 },
    });
    expect(resolveEmbedded({ env: {}, homeDir: home, isRoot: true }).home).toBe('/var/lib/pgstore');
  });

  it('resolveEmbedded still validates what it uses', () => {
    expect(() => resolveEmbedded({ env: { PGSTORE_PORT: 'x' }, homeDir: home, isRoot: false })).toThrow(ConfigError);
  });
});
