/**
 * `pgstore seed`: the development (or test) data set, loaded through the stores, idempotent
 * (each item is looked up first; a second run adds nothing and lists what it skipped), in
 * one transaction, and recorded with a checksum of the set's definition.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describeTarget } from '../../db/config.js';
import { withPool } from '../../db/pool.js';
import { registerSecret } from '../../util/redact.js';
import { UsageError } from '../../errors.js';
import { getEnvironment } from '../../store/admin/index.js';
import { createStores, type Stores } from '../../store/index.js';
import { getAppliedSeed, recordSeed } from '../../store/admin/index.js';
import { FIXTURE_SETS, type FixtureSet } from './fixture-sets.js';
import { seedHostFixtures } from './host-fixtures.js';
import { type CoreOptions, guardProduction } from '../options.js';
import type { FixtureResult } from '../../types/seed.js';

export type { FixtureResult } from '../../types/seed.js';

export interface FixtureOptions extends CoreOptions {
  set?: 'development' | 'test';
  adminEmail?: string | undefined;
  /** Run although the set's definition changed since it was applied. */
  force?: boolean;
  forceProduction?: boolean;
}

/** A stable checksum of a fixture set's definition. */
export function fixtureChecksum(set: FixtureSet): string {
  return createHash('sha256').update(JSON.stringify(set)).digest('hex');
}

/** Loads a fixture set; safe to run again. */
export async function seedFixtures(options: FixtureOptions): Promise<FixtureResult> {
  const started = performance.now();
  const setName = options.set ?? 'development';
  const set = FIXTURE_SETS[setName];
  const adminEmail = (options.adminEmail ?? options.env.PGSTORE_ADMIN_EMAIL ?? set.admin.email).trim();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(adminEmail)) {
    throw new UsageError(`--admin-email: '${adminEmail}' is not an email address`, {
      hint: 'e.g. --admin-email admin@example.com',
    });
  }
  return withPool(options.target, { max: 1, log: options.log }, async (sql, conn) => {
    guardProduction(
      {
        action: `seed the ${setName} data set`,
        target: describeTarget(conn),
        environment: await getEnvironment(sql),
        details: [],
      },
      options.forceProduction,
      false,
    );
    const name = `fixtures:${setName}`;
    const checksum = fixtureChecksum(set);
    const before = await getAppliedSeed(sql, name);
    if (before && before.sha256 !== checksum && !options.force) {
      throw new UsageError(
        `the ${setName} data set changed since it was applied on ${before.appliedAt.toISOString()}`,
        {
          hint: 'Pass --force to load the missing parts (existing rows are kept).',
        },
      );
    }
    const log: Pick<FixtureResult, 'created' | 'skipped' | 'secrets'> = { created: [], skipped: [], secrets: {} };
    await sql.begin(async (tx) => {
      const stores = createStores(tx);
      await seedIdentity(stores, set, adminEmail, options.env.PGSTORE_ADMIN_PASSWORD, log);
      await seedTenancy(stores, set, adminEmail, log);
      await seedHostFixtures(stores, set, log);
      await recordSeed(tx, name, checksum, { created: log.created.length, skipped: log.skipped.length });
    });
    return { set: setName, ...log, adminEmail, durationMs: Math.round(performance.now() - started) };
  });
}

type Log = Pick<FixtureResult, 'created' | 'skipped' | 'secrets'>;

function note(log: Log, created: boolean, what: string): void {
  (created ? log.created : log.skipped).push(what);
}

async function seedIdentity(
  stores: Stores,
  set: FixtureSet,
  adminEmail: string,
  password: string | undefined,
  log: Log,
): Promise<void> {
  // Every item is noted, created or already there, so a second run lists what the first one
  // did. What this run made is "created", also when a store made it beside what was asked (a
  // new user gets the `user` role, a verified one `email-verified`): a first run on a new
  // database lists nothing "already there". The built-in roles come with the schema, not with
  // the data set: they are not listed (one missing is created, and listed).
  for (const role of set.roles) {
    const had = await stores.roles.get(role.name);
    if (had?.builtIn) continue;
    if (!had) await stores.roles.create(role.name, role.description);
    note(log, !had, `role ${role.name}`);
  }
  const admin = await stores.users.getOrCreateByEmail(adminEmail, { name: set.admin.name });
  note(log, admin.created, `admin user ${adminEmail}`);
  const hadPassword = await stores.credentials.hasPassword(admin.user.id);
  if (!hadPassword) {
    const secret = password || randomBytes(12).toString('base64url');
    registerSecret(secret);
    await stores.credentials.setPassword(admin.user.id, secret);
    if (!password) log.secrets.adminPassword = secret;
  }
  note(log, !hadPassword, `password for ${adminEmail}`);
  const verifiedNow = !admin.user.emailVerifiedAt;
  if (verifiedNow) await stores.users.markEmailVerified(admin.user.id);
  // Granted by this run: with the user's creation (`user`), its verification just now, or here.
  const grantedNow = (role: string) => admin.created || (verifiedNow && role === 'email-verified');
  for (const role of set.admin.roles) {
    const assigned = await stores.roles.assign(admin.user.id, role);
    note(log, assigned || grantedNow(role), `role ${role} for ${adminEmail}`);
  }
  for (const member of set.members) {
    const user = await stores.users.getOrCreateByEmail(member.email, { name: member.name });
    note(log, user.created, `user ${member.email}`);
    const assigned = await stores.roles.assign(user.user.id, 'user');
    note(log, assigned || user.created, `role user for ${member.email}`);
  }
}

async function seedTenancy(stores: Stores, set: FixtureSet, adminEmail: string, log: Log): Promise<void> {
  const { tenant, app } = set;
  const hadTenant = await stores.tenants.exists(tenant.id, { includeDeleted: true });
  if (!hadTenant) await stores.tenants.create({ id: tenant.id, name: tenant.name, domain: tenant.domain });
  note(log, !hadTenant, `tenant ${tenant.id}`);
  const hadApp = await stores.apps.exists(tenant.id, app.id);
  if (!hadApp) await stores.apps.create({ tenantId: tenant.id, id: app.id, name: app.name, type: app.type });
  note(log, !hadApp, `app ${tenant.id}/${app.id}`);
  for (const branch of set.branches) {
    const had = await stores.branches.exists(tenant.id, app.id, branch.id);
    if (!had) await stores.branches.create({ tenantId: tenant.id, appId: app.id, ...branch });
    note(log, !had, `branch ${branch.code}`);
  }
  const people = [
    { email: adminEmail, username: set.admin.username },
    ...set.members.map((m) => ({ email: m.email, username: m.username })),
  ];
  for (const person of people) {
    const user = (await stores.users.getByEmail(person.email))!;
    const member = await stores.memberships.get(tenant.id, user.id);
    if (!member) await stores.memberships.add({ tenantId: tenant.id, userId: user.id, username: person.username });
    note(log, !member, `member ${person.username} of ${tenant.id}`);
    const access = await stores.userApps.hasAccess(tenant.id, app.id, user.id);
    if (!access) await stores.userApps.grant(tenant.id, app.id, user.id);
    note(log, !access, `access to ${app.id} for ${person.username}`);
  }
  const keys = await stores.appKeys.list(tenant.id, app.id);
  const hasKey = keys.some((k) => k.name === set.apiKey.name && !k.revokedAt);
  if (!hasKey) {
    const created = await stores.appKeys.create({
      tenantId: tenant.id,
      appId: app.id,
      name: set.apiKey.name,
      environment: set.apiKey.environment,
      scopes: set.apiKey.scopes,
    });
    registerSecret(created.secret);
    log.secrets.apiKey = created.secret;
  }
  note(log, !hasKey, `API key '${set.apiKey.name}'`);
}
