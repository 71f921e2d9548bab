/**
 * The migration role travels as a field of the resolved connection (`role`), and becomes
 * `-c role=...` only where a session starts: the driver's startup options, a URL for a child
 * program (dbmate), and a child's libpq environment (PGOPTIONS), after the URL's own options.
 */
import { describe, expect, it } from 'vitest';
import { dbmateUrl } from '../../src/core/migrate/session.js';
import { connectionUrl, resolveConnection, type ServerConnection, startupOptions } from '../../src/db/config.js';
import { libpqEnv } from '../../src/tools/libpq-env.js';
import { driverOptions } from '../../src/db/pool.js';

const conn = (url: string) => resolveConnection({ databaseUrl: url, env: {} }) as ServerConnection;
const optionsOf = (url: string) => new URL(url).searchParams.get('options');

describe('the role of a connection', () => {
  it("is rendered after the URL's own options, everywhere a session starts", () => {
    const own = { ...conn('postgres://u:pw@127.0.0.1:5432/app?options=-c%20search_path%3Dx'), role: 'app_owner' };
    const expected = '-c search_path=x -c role=app_owner';
    expect(startupOptions(own)).toBe(expected);
    expect((driverOptions(own).connection as Record<string, string>).options).toBe(expected);
    expect(optionsOf(connectionUrl(own))).toBe(expected);
    expect(libpqEnv(own).PGOPTIONS).toBe(expected);
  });

  it("is nothing when unset: the URL's options pass as they are, or none at all", () => {
    const plain = conn('postgres://u:pw@127.0.0.1:5432/app');
    expect(startupOptions(plain)).toBeUndefined();
    expect((driverOptions(plain).connection as Record<string, string>).options).toBeUndefined();
    expect(optionsOf(connectionUrl(plain))).toBeNull();
    expect(libpqEnv(plain).PGOPTIONS).toBeUndefined();
  });

  it('reaches dbmate once, before the timeouts pgstore adds', () => {
    const owner = { ...conn('postgres://u:pw@127.0.0.1:5432/app?sslmode=disable'), role: 'app_owner' };
    const url = dbmateUrl({ conn: owner, ssl: false }, { name: 'app' }, { statementTimeoutMs: 1000 });
    expect(optionsOf(url)).toBe('-c role=app_owner -c lock_timeout=5000 -c statement_timeout=1000');
  });
});
