/** The external logins store: one identity → one user, idempotent relink, lookups, cascade. */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DuplicateError, ForeignKeyError, NotFoundError, ValidationError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
beforeAll(() => {
  stores = createStores(db.sql);
});

const tag = () => randomBytes(4).toString('hex');
const newUser = () => stores.users.create({ email: `ext.${tag()}@example.com` });

describe('externalLogins', () => {
  it('links an identity and finds its user (regression: seed 000 queried columns that did not exist)', async () => {
    const user = await newUser();
    const subject = `sub-${tag()}`;
    const login = await stores.externalLogins.link({
      userId: user.id,
      provider: 'google',
      subject,
      email: 'a@gmail.example',
    });
    expect(login).toEqual({
      id: expect.any(String),
      userId: user.id,
      provider: 'google',
      subject,
      email: 'a@gmail.example',
      lastLoginAt: null,
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    expect(await stores.externalLogins.get('google', subject)).toEqual(login);
    expect(await stores.externalLogins.getUserByProviderAndSubject('google', subject)).toEqual(user);
    expect(await stores.externalLogins.getUserByProviderAndSubject('github', subject)).toBeNull();
    expect(await stores.externalLogins.get('google', 'nobody')).toBeNull();
  });

  it('relinking to the same user is idempotent and refreshes the email', async () => {
    const user = await newUser();
    const subject = `sub-${tag()}`;
    const first = await stores.externalLogins.link({ userId: user.id, provider: 'github', subject });
    const again = await stores.externalLogins.link({
      userId: user.id,
      provider: 'github',
      subject,
      email: 'new@example.com',
    });
    expect(again.id).toBe(first.id);
    expect(again.email).toBe('new@example.com');
    const keeps = await stores.externalLogins.link({ userId: user.id, provider: 'github', subject });
    expect(keeps.email).toBe('new@example.com');
  });

  it('one identity, one user: linking it to another user is a DuplicateError', async () => {
    const owner = await newUser();
    const intruder = await newUser();
    const subject = `sub-${tag()}`;
    await stores.externalLogins.link({ userId: owner.id, provider: 'github', subject });
    const error = await stores.externalLogins
      .link({ userId: intruder.id, provider: 'github', subject })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateError);
    expect((error as DuplicateError).field).toBe('provider and subject');
    expect((await stores.externalLogins.getUserByProviderAndSubject('github', subject))?.id).toBe(owner.id);
    expect(await stores.externalLogins.listForUser(intruder.id)).toEqual([]);
  });

  it("lists a user's identities, records sign-ins, unlinks", async () => {
    const user = await newUser();
    const a = await stores.externalLogins.link({ userId: user.id, provider: 'github', subject: `a-${tag()}` });
    const b = await stores.externalLogins.link({ userId: user.id, provider: 'google', subject: `b-${tag()}` });
    expect((await stores.externalLogins.listForUser(user.id)).map((l) => l.id)).toEqual([a.id, b.id]);
    const seen = await stores.externalLogins.recordLogin('github', a.subject);
    expect(seen.lastLoginAt).toBeInstanceOf(Date);
    await stores.externalLogins.unlink('github', a.subject);
    expect((await stores.externalLogins.listForUser(user.id)).map((l) => l.id)).toEqual([b.id]);
    await expect(stores.externalLogins.unlink('github', a.subject)).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.externalLogins.recordLogin('github', a.subject)).rejects.toBeInstanceOf(NotFoundError);
    expect(await stores.externalLogins.listForUser('garbage')).toEqual([]);
  });

  it('refuses a missing user or an empty provider', async () => {
    await expect(
      stores.externalLogins.link({
        userId: '0190c3a0-0000-7000-8000-000000000000',
        provider: 'github',
        subject: tag(),
      }),
    ).rejects.toBeInstanceOf(ForeignKeyError);
    await expect(
      stores.externalLogins.link({ userId: 'garbage', provider: 'github', subject: tag() }),
    ).rejects.toBeInstanceOf(ForeignKeyError);
    const user = await newUser();
    await expect(stores.externalLogins.link({ userId: user.id, provider: '', subject: tag() })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('regression (seed 000: no cascade): deleting the user removes its links and frees the identity', async () => {
    const user = await newUser();
    const subject = `sub-${tag()}`;
    await stores.externalLogins.link({ userId: user.id, provider: 'github', subject });
    await stores.users.delete(user.id);
    expect(await stores.externalLogins.get('github', subject)).toBeNull();
    const next = await newUser();
    expect((await stores.externalLogins.link({ userId: next.id, provider: 'github', subject })).userId).toBe(next.id);
  });
});
