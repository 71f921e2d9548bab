/**
 * The built-in data sets `pgstore seed` loads: what a developer (or a test suite) wants in a
 * fresh database. Changing a set changes its checksum, so a database that has the old one
 * needs `seed --force` to get the new parts.
 */

export interface FixtureSet {
  roles: Array<{ name: string; description: string }>;
  admin: { email: string; name: string; username: string; roles: string[] };
  members: Array<{ email: string; name: string; username: string }>;
  tenant: { id: string; name: string; domain: string };
  app: { id: string; name: string; type: string };
  branches: Array<{ id: string; code: string; name: string; type: string }>;
  apiKey: { name: string; environment: 'live' | 'test'; scopes: string[] };
  hosts: Array<{ ip: string; hostname: string; aliases?: string[]; comment?: string; tags: string[] }>;
  /** Name of the snapshot taken after the hosts, or null for none. */
  snapshot: string | null;
}

const ROLES = [
  { name: 'user', description: 'Every signed-up user' },
  { name: 'email-verified', description: 'Confirmed their email address' },
  { name: 'trusted-contact', description: 'May see personal content' },
  { name: 'admin', description: 'Full access' },
];

export const FIXTURE_SETS: Record<'development' | 'test', FixtureSet> = {
  development: {
    roles: ROLES,
    admin: { email: 'admin@example.com', name: 'Admin', username: 'admin', roles: ['user', 'email-verified', 'admin'] },
    members: [
      { email: 'alice@example.com', name: 'Alice Example', username: 'alice' },
      { email: 'bob@example.com', name: 'Bob Example', username: 'bob' },
    ],
    tenant: { id: 'demo', name: 'Demo Company', domain: 'demo.example.com' },
    app: { id: 'web', name: 'Demo Web', type: 'web' },
    branches: [
      { id: 'hq', code: 'HQ', name: 'Headquarters', type: 'office' },
      { id: 'north', code: 'NORTH', name: 'North Store', type: 'store' },
    ],
    apiKey: { name: 'demo key', environment: 'test', scopes: ['read', 'write'] },
    hosts: [
      {
        ip: '127.0.0.1',
        hostname: 'localhost',
        aliases: ['localhost.localdomain'],
        comment: 'loopback',
        tags: ['system'],
      },
      {
        ip: '::1',
        hostname: 'ip6-localhost',
        aliases: ['ip6-loopback'],
        comment: 'IPv6 loopback',
        tags: ['system', 'ipv6'],
      },
      { ip: '10.0.0.1', hostname: 'gateway.lan', comment: 'router', tags: ['network'] },
      { ip: '10.0.0.2', hostname: 'nas.lan', aliases: ['files.lan'], comment: 'file server', tags: ['storage'] },
      { ip: '10.0.0.10', hostname: 'db.lan', comment: 'PostgreSQL primary', tags: ['database', 'production'] },
      { ip: '10.0.0.11', hostname: 'db-replica.lan', comment: 'PostgreSQL replica', tags: ['database', 'production'] },
      { ip: '10.0.0.20', hostname: 'api.lan', aliases: ['api-internal.lan'], tags: ['web', 'production'] },
      { ip: '10.0.0.21', hostname: 'web.lan', aliases: ['www.lan'], tags: ['web', 'production'] },
      { ip: '10.0.0.30', hostname: 'cache.lan', comment: 'Redis', tags: ['cache'] },
      { ip: '10.0.1.5', hostname: 'build.lan', comment: 'CI runner', tags: ['ci'] },
      { ip: '192.168.1.10', hostname: 'printer.home.arpa', tags: ['office'] },
      { ip: '0.0.0.0', hostname: 'ads.example.net', comment: 'blocked', tags: ['blocked'] },
    ],
    snapshot: 'seed',
  },
  test: {
    roles: ROLES,
    admin: {
      email: 'admin@test.example',
      name: 'Test Admin',
      username: 'admin',
      roles: ['user', 'email-verified', 'admin'],
    },
    members: [{ email: 'user@test.example', name: 'Test User', username: 'user' }],
    tenant: { id: 'test', name: 'Test Tenant', domain: 'test.example' },
    app: { id: 'api', name: 'Test API', type: 'api' },
    branches: [
      { id: 'main', code: 'MAIN', name: 'Main', type: 'office' },
      { id: 'second', code: 'SECOND', name: 'Second', type: 'store' },
    ],
    apiKey: { name: 'test key', environment: 'test', scopes: ['read'] },
    hosts: [
      { ip: '127.0.0.1', hostname: 'localhost', tags: ['system'] },
      { ip: '10.0.0.1', hostname: 'service.test', tags: ['test'] },
      { ip: '10.0.0.2', hostname: 'other.test', comment: 'second host', tags: ['test'] },
    ],
    snapshot: null,
  },
};
