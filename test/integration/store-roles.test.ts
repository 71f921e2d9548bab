/** The roles store: built-in catalogue, assign (idempotent), revoke, checks and listings. */
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
const newUser = () => stores.users.create({ email: `role.${tag()}@example.com` });

describe('roles', () => {
  it('lists the built-in roles made by the migration', async () => {
    const roles = await stores.roles.list();
    expect(roles.filter((r) => r.builtIn).map((r) => r.name)).toEqual([
      'user',
      'email-verified',
      'trusted-contact',
      'admin',
    ]);
    expect(roles[0]).toEqual({
      id: expect.any(Number),
      name: 'user',
      description: 'Base role of every account',
      builtIn: true,
      createdAt: expect.any(Date),
    });
    expect(await stores.roles.get('admin')).toMatchObject({ name: 'admin', builtIn: true });
    expect(await stores.roles.get('nope')).toBeNull();
  });

  it('assigns (idempotently), checks, lists and revokes', async () => {
    const user = await newUser();
    expect(await stores.roles.hasRole(user.id, 'admin')).toBe(false);
    expect(await stores.roles.assign(user.id, 'admin')).toBe(true);
    expect(await stores.roles.assign(user.id, 'admin')).toBe(false);
    expect(await stores.roles.hasRole(user.id, 'admin')).toBe(true);
    const held = await stores.roles.listForUser(user.id);
    expect(held.map((r) => r.name)).toEqual(['user', 'admin']);
    expect(held[1]!.grantedAt).toBeInstanceOf(Date);
    await stores.roles.revoke(user.id, 'admin');
    expect(await stores.roles.hasRole(user.id, 'admin')).toBe(false);
    await expect(stores.roles.revoke(user.id, 'admin')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('an unknown role is NotFoundError, an unknown user ForeignKeyError; checks on bad ids are false', async () => {
    const user = await newUser();
    await expect(stores.roles.assign(user.id, 'wizard')).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.roles.assign('0190c3a0-0000-7000-8000-000000000000', 'admin')).rejects.toBeInstanceOf(
      ForeignKeyError,
    );
    await expect(stores.roles.assign('garbage', 'admin')).rejects.toBeInstanceOf(ForeignKeyError);
    await expect(stores.roles.revoke('garbage', 'admin')).rejects.toBeInstanceOf(NotFoundError);
    expect(await stores.roles.hasRole('garbage', 'admin')).toBe(false);
    expect(await stores.roles.hasRole(user.id, 'wizard')).toBe(false);
    expect(await stores.roles.listForUser('garbage')).toEqual([]);
  });

  it('lists the users holding a role, paged in creation order', async () => {
    const name = `team-${tag()}`;
    await stores.roles.create(name, 'a test role');
    const users = [await newUser(), await newUser(), await newUser()];
    for (const user of users.reverse()) await stores.roles.assign(user.id, name);
    const first = await stores.roles.usersWithRole(name, { limit: 2 });
    const second = await stores.roles.usersWithRole(name, { limit: 2, offset: 2 });
    expect(first.total).toBe(3);
    expect([...first.items, ...second.items].map((u) => u.id)).toEqual(users.map((u) => u.id).sort());
    await expect(stores.roles.usersWithRole('nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates and deletes custom roles; built-in roles cannot be deleted; names are unique and checked', async () => {
    const name = `custom-${tag()}`;
    const role = await stores.roles.create(name);
    expect(role).toMatchObject({ name, builtIn: false, description: null });
    const error = await stores.roles.create(name).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateError);
    expect((error as DuplicateError).field).toBe('name');
    await expect(stores.roles.create('Not Valid')).rejects.toBeInstanceOf(ValidationError);

    const user = await newUser();
    await stores.roles.assign(user.id, name);
    await stores.roles.delete(name);
    expect(await stores.roles.hasRole(user.id, name)).toBe(false);
    await expect(stores.roles.delete(name)).rejects.toBeInstanceOf(NotFoundError);
    await expect(stores.roles.delete('admin')).rejects.toBeInstanceOf(ValidationError);
    expect(await stores.roles.get('admin')).not.toBeNull();
  });
});
