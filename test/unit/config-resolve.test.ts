/**
 * resolveConnection: precedence, URL parts, libpq variables, ~/.pgpass, sslmode, and what
 * reaches the driver or a child program (connectionUrl, libpqEnv, params).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectionTarget,
  connectionUrl,
  DEFAULT_POOL,
  describeTarget,
  type Env,
  resolveConnection,
  SSL_MODES,
  type ServerConnection,
} from '../../src/db/config.js';
import { libpqEnv } from '../../src/tools/libpq-env.js';

let home: string;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'pgstore-config-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

function resolve(env: Env, databaseUrl?: string): ConnectionTarget {
  return resolveConnection({ env, databaseUrl, homeDir: home, isRoot: false });
}

function server(env: Env, databaseUrl?: string): ServerConnection {
  const target = resolve(env, databaseUrl);
  if (target.kind !== 'server') throw new Error(`expected a server target, got ${target.kind}`);
  return target;
}

function writePgpass(name: string, text: string, mode = 0o600): string {
  const path = join(home, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

const LIBPQ: Env = {
  PGHOST: 'pg.example',
  PGPORT: '6432',
  PGUSER: 'libpq_user',
  PGPASSWORD: 'pw-libpq-1',
  PGDATABASE: 'libpq_db',
};

describe('precedence', () => {
  it('--database-url beats DATABASE_URL and the PG* variables', () => {
    const conn = server(
      { ...LIBPQ, DATABASE_URL: 'postgres://env:pw-env-1@env.example:5433/envdb' },
      'postgres://flag:pw-flag-1@flag.example:5434/flagdb',
    );
    expect(conn).toMatchObject({
      source: '--database-url',
      host: 'flag.example',
      port: 5434,
      user: 'flag',
      password: 'pw-flag-1',
      database: 'flagdb',
    });
  });

  it('DATABASE_URL beats the PG* variables', () => {
    const conn = server({ ...LIBPQ, DATABASE_URL: 'postgres://env:pw-env-2@env.example:5433/envdb' });
    expect(conn).toMatchObject({
      source: 'DATABASE_URL',
      host: 'env.example',
      port: 5433,
      user: 'env',
      password: 'pw-env-2',
      database: 'envdb',
    });
  });

  it("a blank --database-url is an error, not a fall-through to DATABASE_URL (a script's unset variable)", () => {
    expect(() => server({ DATABASE_URL: 'postgres://env.example/db' }, '   ')).toThrow(/--database-url is empty/);
  });

  it('the PG* variables beat the embedded default', () => {
    expect(server({ ...LIBPQ, PGSSLMODE: 'require' })).toEqual({
      kind: 'server',
      source: 'libpq',
      host: 'pg.example',
      port: 6432,
      user: 'libpq_user',
      password: 'pw-libpq-1',
      database: 'libpq_db',
      sslmode: 'require',
      params: {},
      pool: DEFAULT_POOL,
    });
  });

  it.each(['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE'])('%s alone selects a libpq server', (name) => {
    const value = name === 'PGPORT' ? '5555' : 'x';
    expect(resolve({ [name]: value }).kind).toBe('server');
  });

  it('libpq defaults: port 5432, the OS user, a database named after the user', () => {
    const conn = server({ PGHOST: '/var/run/postgresql' });
    expect(conn).toMatchObject({
      host: '/var/run/postgresql',
      port: 5432,
      user: userInfo().username,
      database: userInfo().username,
      password: undefined,
      sslmode: undefined,
    });
  });

  it('PGPASSWORD or PGSSLMODE alone names no server: the embedded default is used', () => {
    expect(resolve({ PGPASSWORD: 'pw-lonely-1' }).kind).toBe('embedded');
    expect(resolve({ PGSSLMODE: 'require' }).kind).toBe('embedded');
  });

  it('with nothing configured, the embedded server', () => {
    expect(resolve({})).toEqual({
      kind: 'embedded',
      source: 'embedded',
      home: join(home, '.local', 'share', 'pgstore'),
      port: 54329,
      database: 'pgstore',
      pool: DEFAULT_POOL,
    });
  });

  it('empty PG* variables count as unset', () => {
    expect(resolve({ PGHOST: '', PGUSER: '' }).kind).toBe('embedded');
  });

  it('an empty DATABASE_URL or --database-url is an error, never a fall-through to the next source', () => {
    for (const value of ['', '  ']) {
      expect(() => resolve({ DATABASE_URL: value })).toThrow(/DATABASE_URL is set but empty/);
      expect(() => resolveConnection({ databaseUrl: value, env: {} })).toThrow(/--database-url is empty/);
    }
  });
});

describe('URL parts', () => {
  it('decodes percent-encoded user, password and database; accepts postgresql://', () => {
    const conn = server({}, 'postgresql://us%40er:p%40ss%3Aw%2Frd@db.example:5432/my%20db');
    expect(conn).toMatchObject({
      user: 'us@er',
      password: 'p@ss:w/rd',
      database: 'my db',
      host: 'db.example',
      port: 5432,
    });
  });

  it('an unencoded @ in the password still parses', () => {
    expect(server({}, 'postgres://u:p@ss@db.example/x')).toMatchObject({
      user: 'u',
      password: 'p@ss',
      host: 'db.example',
    });
  });

  it('a + in a query value stays a plus, as in libpq', () => {
    const conn = server({}, 'postgres://u@h/db?password=a+b&application_name=x+y');
    expect(conn.password).toBe('a+b');
    expect(conn.params).toEqual({ application_name: 'x+y' });
  });

  it('IPv6 hosts lose their brackets, and get them back in connectionUrl', () => {
    const conn = server({}, 'postgres://u@[::1]:5433/db');
    expect(conn.host).toBe('::1');
    expect(connectionUrl(conn)).toBe('postgresql://u@[::1]:5433/db');
  });

  it('a socket directory from ?host= or a percent-encoded host', () => {
    expect(server({}, 'postgres:///db?host=/tmp/sock&port=5999')).toMatchObject({
      host: '/tmp/sock',
      port: 5999,
      database: 'db',
    });
    expect(server({}, 'postgres://%2Ftmp%2Fsock/db').host).toBe('/tmp/sock');
  });

  it('an empty host, as libpq allows it (user@/db?host=..., :port)', () => {
    const conn = server({}, 'postgres://u:pw-nohost-1@/app?host=/cloudsql/proj:region:inst');
    expect(conn).toMatchObject({
      host: '/cloudsql/proj:region:inst',
      user: 'u',
      password: 'pw-nohost-1',
      database: 'app',
      port: 5432,
    });
    expect(server({ PGHOST: 'pg.example' }, 'postgres://:5433/app')).toMatchObject({ host: 'pg.example', port: 5433 });
    expect(server({}, 'postgres://u@:5433/app').host).toBe('localhost');
  });

  it('query parameters user, dbname, port fill parts the URL leaves out', () => {
    expect(server({}, 'postgres://h/?user=qu&dbname=qdb&port=7000')).toMatchObject({
      user: 'qu',
      database: 'qdb',
      port: 7000,
    });
  });

  it('parts the URL leaves out come from the PG* variables, as libpq does', () => {
    const conn = server({ PGPORT: '6543', PGUSER: 'bob', PGPASSWORD: 'pw-fill-1' }, 'postgres://db.example');
    expect(conn).toMatchObject({ host: 'db.example', port: 6543, user: 'bob', password: 'pw-fill-1', database: 'bob' });
  });

  it('the URL password beats PGPASSWORD and ~/.pgpass', () => {
    writePgpass('.pgpass', '*:*:*:*:pw-file-0\n');
    try {
      expect(server({ PGPASSWORD: 'pw-env-3' }, 'postgres://u:pw-url-3@h/db').password).toBe('pw-url-3');
    } finally {
      rmSync(join(home, '.pgpass'));
    }
  });
});

describe('~/.pgpass', () => {
  it('supplies the password when none is given (home from homeDir)', () => {
    writePgpass('.pgpass', 'other:5432:*:*:wrong\ndb.example:5432:app:alice:pw-file-1\n');
    try {
      expect(server({}, 'postgres://alice@db.example/app').password).toBe('pw-file-1');
      expect(server({ PGHOST: 'db.example', PGUSER: 'alice', PGDATABASE: 'app' }).password).toBe('pw-file-1');
      // an empty password is no password, as in libpq
      expect(server({ PGPASSWORD: '' }, 'postgres://alice@db.example/app').password).toBe('pw-file-1');
      // no matching line
      expect(server({}, 'postgres://alice@db.example/other').password).toBeUndefined();
    } finally {
      rmSync(join(home, '.pgpass'));
    }
  });

  it('PGPASSFILE overrides its place', () => {
    const path = writePgpass('custom-pass', '*:*:*:*:pw-file-2\n');
    expect(server({ PGPASSFILE: path }, 'postgres://u@h/db').password).toBe('pw-file-2');
  });

  it('is ignored when group or others can read it', () => {
    const path = writePgpass('open-pass', '*:*:*:*:pw-file-3\n', 0o640);
    expect(server({ PGPASSFILE: path }, 'postgres://u@h/db').password).toBeUndefined();
  });
});

describe('sslmode', () => {
  it.each(SSL_MODES)('accepts sslmode=%s', (mode) => {
    expect(server({}, `postgres://h/db?sslmode=${mode}`).sslmode).toBe(mode);
  });

  it('comes from PGSSLMODE when the URL has none; the URL wins', () => {
    expect(server({ PGSSLMODE: 'verify-full' }, 'postgres://h/db').sslmode).toBe('verify-full');
    expect(server({ PGSSLMODE: 'verify-full' }, 'postgres://h/db?sslmode=disable').sslmode).toBe('disable');
    expect(server({ PGSSLMODE: '' }, 'postgres://h/db').sslmode).toBeUndefined();
  });

  it('reaches the URL and the child environment', () => {
    const conn = server({}, 'postgres://u:pw-ssl-1@h/db?sslmode=require');
    expect(connectionUrl(conn)).toBe('postgresql://u:pw-ssl-1@h:5432/db?sslmode=require');
    expect(libpqEnv(conn).PGSSLMODE).toBe('require');
  });
});

describe('what reaches the driver and child programs', () => {
  const url =
    'postgres://app:pw-strip-1@db.example:5432/shop?max_connections=20&min_connections=2&acquire_timeout=5&idle_timeout=60' +
    '&application_name=shop&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=7&sslmode=verify-full';

  it('pool parameters become pool settings and leave the params', () => {
    const conn = server({}, url);
    expect(conn.pool).toEqual({ max: 20, min: 2, acquireTimeoutSeconds: 5, idleTimeoutSeconds: 60 });
    expect(conn.params).toEqual({ application_name: 'shop', sslrootcert: '/etc/ca.pem', connect_timeout: '7' });
  });

  it('connectionUrl carries no pool parameters, and the password only when asked', () => {
    const conn = server({}, url);
    const full = connectionUrl(conn);
    expect(full).toBe(
      'postgresql://app:pw-strip-1@db.example:5432/shop?application_name=shop&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=7&sslmode=verify-full',
    );
    expect(connectionUrl(conn, false)).toBe(full.replace(':pw-strip-1', ''));
    expect(full).not.toMatch(/max_connections|min_connections|acquire_timeout|idle_timeout/);
  });

  it('libpqEnv: every part as a libpq variable, other parameters included, no pool settings', () => {
    expect(libpqEnv(server({}, url))).toEqual({
      PGHOST: 'db.example',
      PGPORT: '5432',
      PGUSER: 'app',
      PGPASSWORD: 'pw-strip-1',
      PGDATABASE: 'shop',
      PGSSLMODE: 'verify-full',
      PGAPPNAME: 'shop',
      PGSSLROOTCERT: '/etc/ca.pem',
      PGCONNECT_TIMEOUT: '7',
    });
  });

  it("libpqEnv leaves out an absent password and sslmode (the connect timeout is the pool's)", () => {
    expect(libpqEnv(server({}, 'postgres://u@h/db'))).toEqual({
      PGHOST: 'h',
      PGPORT: '5432',
      PGUSER: 'u',
      PGDATABASE: 'db',
      PGCONNECT_TIMEOUT: '30',
    });
  });

  it('connectionUrl round-trips through the resolver, special characters included', () => {
    const conn = server({}, 'postgres://us%40er:p%40ss%20w%2Brd@h:6000/my%2Fdb?application_name=a%26b');
    const again = server({}, connectionUrl(conn));
    expect({ ...again, source: conn.source }).toEqual(conn);
  });

  it('connectionUrl puts a socket directory in ?host=, and the resolver reads it back', () => {
    const conn = server({ PGHOST: '/tmp/sock', PGUSER: 'u', PGDATABASE: 'd' });
    expect(connectionUrl(conn)).toBe('postgresql://u@:5432/d?host=%2Ftmp%2Fsock');
    expect(server({}, connectionUrl(conn))).toMatchObject({ host: '/tmp/sock', port: 5432, user: 'u', database: 'd' });
  });

  it('describeTarget shows user@host:port/db and never the password', () => {
    const conn = server({}, 'postgres://u:pw-desc-1@h:5433/db');
    expect(describeTarget(conn)).toBe('u@h:5433/db');
  });
});
