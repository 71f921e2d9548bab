/**
 * Case-insensitive keys (emails, tenant names, usernames) hold beyond ASCII, whatever the
 * server's locale (the test cluster is initdb --locale=C, where lower() folds ASCII only).
 * The rule is pgstore.casefold: NFC(full Unicode case folding(NFD(x))), non-Turkic.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DuplicateError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { migrateDown, migrateUp } from '../../src/core/migrate/migrate.js';
import { coreOptions } from '../helpers/core-options.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;

beforeAll(async () => {
  stores = createStores(db.sql);
  await stores.tenants.create({ id: 't', name: 'T' });
});

const dup = (p: Promise<unknown>) =>
  p.then(
    () => 'created',
    (e: unknown) => (e instanceof DuplicateError ? `duplicate ${e.field}` : String(e)),
  );

describe('emails are unique case-insensitively, beyond ASCII', () => {
  it('Zoë@Bücher.example is ZOË@BÜCHER.EXAMPLE, composed or decomposed', async () => {
    const zoe = await stores.users.create({ email: 'Zoë@Bücher.example' });
    expect((await stores.users.getByEmail('ZOË@BÜCHER.EXAMPLE'))?.id).toBe(zoe.id);
    expect((await stores.users.getByEmail('zoe\u0308@bu\u0308cher.example'))?.id).toBe(zoe.id);
    expect(await dup(stores.users.create({ email: 'ZOË@BÜCHER.EXAMPLE' }))).toBe('duplicate email');
    const again = await stores.users.getOrCreateByEmail('zoË@büCHER.example');
    expect(again).toMatchObject({ created: false, user: { id: zoe.id } });
    expect(await stores.credentials.verifyByEmail('ZOË@BÜCHER.EXAMPLE', 'wrong')).toBeNull();
    expect((await stores.users.list({ search: 'BÜCHER' })).items.map((u) => u.id)).toContain(zoe.id);
  });

  it('ß is ss (full folding), and σ, ς and Σ are one letter', async () => {
    const strasse = await stores.users.create({ email: 'strasse@example.org' });
    expect((await stores.users.getByEmail('STRAẞE@example.org'))?.id).toBe(strasse.id);
    expect((await stores.users.getByEmail('straße@EXAMPLE.org'))?.id).toBe(strasse.id);
    const odos = await stores.users.create({ email: 'οδος@example.gr' });
    expect((await stores.users.getByEmail('ΟΔΟΣ@EXAMPLE.GR'))?.id).toBe(odos.id);
    expect((await stores.users.getByEmail('οδοσ@example.gr'))?.id).toBe(odos.id);
  });

  it('Turkish i: I is i, but dotless ı and dotted İ are other letters (non-Turkic folding)', async () => {
    const plain = await stores.users.create({ email: 'iris@example.tr' });
    expect((await stores.users.getByEmail('IRIS@example.tr'))?.id).toBe(plain.id);
    expect(await stores.users.getByEmail('ırıs@example.tr')).toBeNull();
    expect(await stores.users.getByEmail('İRİS@example.tr')).toBeNull();
    const dotless = await stores.users.create({ email: 'ırıs@example.tr' });
    expect(dotless.id).not.toBe(plain.id);
  });

  it('changing only the case of an email keeps it verified', async () => {
    const user = await stores.users.create({ email: 'élodie@example.fr' });
    await stores.users.markEmailVerified(user.id);
    expect((await stores.users.update(user.id, { email: 'ÉLODIE@example.fr' })).emailVerifiedAt).not.toBeNull();
  });
});

describe('tenant names and usernames too', () => {
  it('a live tenant name is unique beyond ASCII; getByName finds it', async () => {
    const tenant = await stores.tenants.create({ id: 'buecher', name: 'Bücher' });
    expect(await dup(stores.tenants.create({ id: 'buecher2', name: 'BÜCHER' }))).toBe('duplicate name');
    expect((await stores.tenants.getByName('BÜCHER'))?.id).toBe(tenant.id);
  });

  it('a username is unique per tenant beyond ASCII; getByUsername and getByEmail find it', async () => {
    const a = await stores.users.create({ email: 'ögon@example.se' });
    const b = await stores.users.create({ email: 'other@example.se' });
    await stores.memberships.add({ tenantId: 't', userId: a.id, username: 'Ögon' });
    expect(await dup(stores.memberships.add({ tenantId: 't', userId: b.id, username: 'öGON' }))).toBe(
      'duplicate username',
    );
    expect((await stores.memberships.getByUsername('t', 'ÖGON'))?.userId).toBe(a.id);
    expect((await stores.memberships.getByEmail('t', 'ÖGON@EXAMPLE.SE'))?.userId).toBe(a.id);
  });
});

describe('the migration upgrades a database', () => {
  it('refuses, naming them, rows that collide under the new rule; applies once they are resolved', async () => {
    const env = {};
    // pgstore's own set, named: a ./db/migrations folder in the working folder (a user's
    // `pgstore migrate new` in the clone) makes the app set the default of down.
    const own = { ...coreOptions(db.url, env), set: 'pgstore' as const };
    await migrateDown({ ...own, to: '20260101000003' });
    await db.sql`delete from auth.users`;
    // Under lower() with the C locale these are two different emails.
    const [first] = await db.sql<
      { id: string }[]
    >`insert into auth.users (email) values ('Åsa@example.se') returning id`;
    await db.sql`insert into auth.users (email) values ('åsa@EXAMPLE.se')`;
    const failed = await migrateUp(own).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(failed?.message ?? 'it applied').toMatch(/case-insensitive emails collide/);
    expect(failed?.message).toContain(first!.id);
    expect(failed?.message).toContain('åsa@EXAMPLE.se');
    await db.sql`delete from auth.users where email = 'åsa@EXAMPLE.se'`;
    const result = await migrateUp(own);
    expect(result.applied.map((m) => m.version)).toContain('20261205000002');
    expect((await stores.users.getByEmail('ÅSA@example.se'))?.id).toBe(first!.id);
  });
});
