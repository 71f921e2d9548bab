/**
 * The auth and tenancy stores keep their promises on input of the wrong shape: every method
 * either gives its documented result or throws a typed PgstoreError — never a driver error
 * (postgres.js's UNDEFINED_VALUE, "invalid input syntax for type uuid", a datatype mismatch).
 * And a key that names nothing (any string: 'john.doe', '', non-ASCII) gives the documented
 * "missing" answer: null / false / [] for a read, NotFoundError for a change.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, PgstoreError, ValidationError } from '../../src/errors.js';
import { mapDbError } from '../../src/store/map-error.js';
import { createCredentialsStore } from '../../src/store/auth/credentials.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let stores: Stores;
// Bounded so that npm test stays quick; PGSTORE_ODD_RUNS=1000 for a long hunt.
const RUNS = Number(process.env.PGSTORE_ODD_RUNS) || 6;

const AUTH_AND_TENANCY = [
  'users',
  'credentials',
  'sessions',
  'externalLogins',
  'nonces',
  'profiles',
  'preferences',
  'roles',
  'tenants',
  'apps',
  'branches',
  'memberships',
  'userApps',
  'appKeys',
] as const;

const huge = 'x'.repeat(20_000);
const oddNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 2 ** 53, Number.NaN, Infinity, -Infinity, 1.5),
);
const oddString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom(
    'john.doe',
    '',
    ' ',
    '\0',
    'a\0b',
    huge,
    'ZOË@BÜCHER.EXAMPLE',
    '00000000-0000-0000-0000-000000000000',
  ),
  fc.uuid(),
);
const oddScalar = fc.oneof(fc.constant(undefined), fc.constant(null), fc.boolean(), oddNumber, oddString, fc.bigInt());
// Objects shaped like the stores' inputs, with fields missing or of the wrong type.
const field = fc.oneof(oddScalar, fc.array(oddScalar, { maxLength: 3 }), fc.object({ maxDepth: 1 }));
const oddObject = fc.record(
  {
    id: field,
    tenantId: field,
    appId: field,
    userId: field,
    name: field,
    email: field,
    username: field,
    code: field,
    type: field,
    status: field,
    metadata: field,
    limit: oddNumber,
    offset: oddNumber,
    search: field,
    ttlSeconds: field,
    tokenHash: field,
    provider: field,
    subject: field,
    prefix: field,
    scopes: field,
    environment: field,
  },
  { requiredKeys: [] },
);
const oddValue = fc.oneof(
  oddScalar,
  oddObject,
  fc.array(oddScalar, { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
  fc.date(),
);

function methods(): Array<[string, string]> {
  return AUTH_AND_TENANCY.flatMap((store) =>
    Object.keys(stores[store]).map((method): [string, string] => [store, method]),
  );
}

function call(store: string, method: string, args: unknown[]): Promise<unknown> {
  const fn = (stores as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>)[store]![
    method
  ]!;
  try {
    return Promise.resolve(fn(...args));
  } catch (error) {
    // A synchronous throw breaks the promise-returning contract too.
    return Promise.reject(new Error(`threw synchronously: ${String(error)}`));
  }
}

const call0 = (fn: () => Promise<unknown>) => {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
};
const describeError = (e: unknown) =>
  e instanceof Error
    ? `${e.constructor.name} ${(e as { code?: string }).code ?? ''}: ${e.message.slice(0, 200)}`
    : String(e);

beforeAll(async () => {
  // Cheap hashing parameters: the shapes are under test here, not scrypt's cost.
  stores = { ...createStores(db.sql), credentials: createCredentialsStore(db.sql, { params: { ln: 4, r: 8, p: 1 } }) };
  await stores.tenants.create({ id: 't', name: 'T' });
  await stores.apps.create({ tenantId: 't', id: 'web', name: 'Web', type: 'web' });
});

describe('stores on input of the wrong shape', () => {
  it('every method gives a result or a PgstoreError, nothing else', async () => {
    const all = methods();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...all), fc.array(oddValue, { maxLength: 4 }), async ([store, method], args) => {
        const outcome = await call(store, method, args).then(
          () => null,
          (e: unknown) => (e instanceof PgstoreError ? null : e),
        );
        if (outcome !== null)
          throw new Error(`${store}.${method}(${args.map((a) => typeof a).join(', ')}) → ${describeError(outcome)}`);
      }),
      { numRuns: RUNS * all.length, endOnFailure: false },
    );
  });
});

// [store, method, how many leading key arguments, what "missing" looks like, extra arguments]
type Missing = 'null' | 'false' | 'empty' | 'page' | 'notFound';
const KEYED: Array<[string, string, number, Missing, unknown[]?]> = [
  ['users', 'get', 1, 'null'],
  ['users', 'getByEmail', 1, 'null'],
  ['users', 'update', 1, 'notFound', [{ name: 'x' }]],
  ['users', 'delete', 1, 'notFound'],
  ['users', 'markEmailVerified', 1, 'notFound'],
  // verifyPassword and verifyByEmail spend a password hash's work per call: checked once below.
  ['credentials', 'hasPassword', 1, 'false'],
  ['credentials', 'get', 1, 'null'],
  ['sessions', 'get', 1, 'null'],
  ['sessions', 'getById', 1, 'null'],
  ['sessions', 'listForUser', 1, 'empty'],
  ['externalLogins', 'get', 2, 'null'],
  ['externalLogins', 'getUserByProviderAndSubject', 2, 'null'],
  ['externalLogins', 'listForUser', 1, 'empty'],
  ['externalLogins', 'unlink', 2, 'notFound'],
  ['nonces', 'consume', 1, 'null'],
  ['profiles', 'get', 1, 'null'],
  ['preferences', 'get', 1, 'null'],
  ['roles', 'get', 1, 'null'],
  ['roles', 'hasRole', 2, 'false'],
  ['roles', 'listForUser', 1, 'empty'],
  ['tenants', 'get', 1, 'null'],
  ['tenants', 'getByName', 1, 'null'],
  ['tenants', 'exists', 1, 'false'],
  ['tenants', 'update', 1, 'notFound', [{ name: 'x' }]],
  ['tenants', 'softDelete', 1, 'notFound'],
  ['tenants', 'restore', 1, 'notFound'],
  ['tenants', 'delete', 1, 'notFound'],
  ['apps', 'get', 2, 'null'],
  ['apps', 'getByName', 2, 'null'],
  ['apps', 'list', 1, 'empty'],
  ['apps', 'exists', 2, 'false'],
  ['apps', 'update', 2, 'notFound', [{ name: 'x' }]],
  ['apps', 'delete', 2, 'notFound'],
  ['branches', 'get', 3, 'null'],
  ['branches', 'getByCode', 3, 'null'],
  ['branches', 'list', 2, 'empty'],
  ['branches', 'exists', 3, 'false'],
  ['branches', 'update', 3, 'notFound', [{ name: 'x' }]],
  ['branches', 'delete', 3, 'notFound'],
  ['memberships', 'get', 2, 'null'],
  ['memberships', 'getByUsername', 2, 'null'],
  ['memberships', 'getByEmail', 2, 'null'],
  ['memberships', 'list', 1, 'empty'],
  ['memberships', 'listByApp', 2, 'empty'],
  ['memberships', 'update', 2, 'notFound', [{ status: 'disabled' }]],
  ['memberships', 'remove', 2, 'notFound'],
  ['userApps', 'hasAccess', 3, 'false'],
  ['userApps', 'listUserApps', 2, 'empty'],
  ['userApps', 'listAppUsers', 2, 'empty'],
  ['userApps', 'revoke', 3, 'notFound'],
  ['appKeys', 'verify', 1, 'null'],
  ['appKeys', 'getByKeyId', 3, 'null'],
  ['appKeys', 'list', 2, 'empty'],
  ['appKeys', 'rotate', 3, 'notFound'],
  ['appKeys', 'revoke', 3, 'notFound'],
  ['appKeys', 'delete', 3, 'notFound'],
];

// Keys that name nothing: any text without NUL (a NUL may be refused as invalid instead).
const missingKey = fc
  .oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom('john.doe', '', ' ', 'ZOË', 'İstanbul', 'x'.repeat(3000), '00000000-0000-0000-0000-000000000000'),
    fc.uuid(),
  )
  .filter((s) => !s.includes('\0') && s !== 't' && s !== 'web');

function isMissing(kind: Missing, value: unknown): boolean {
  if (kind === 'null') return value === null;
  if (kind === 'false') return value === false;
  if (kind === 'empty') return Array.isArray(value) && value.length === 0;
  return false;
}

describe('keys that name nothing', () => {
  it('read as null / false / [] and change as NotFoundError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...KEYED),
        fc.array(missingKey, { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        async (entry, keys, scoped) => {
          const [store, method, n, kind, extra = []] = entry;
          // Half the time the leading keys are the existing tenant and app, so the last key is what is missing.
          const args = scoped && n > 1 ? ['t', 'web', ...keys].slice(0, n) : keys.slice(0, n);
          if (scoped && n > 1) args[n - 1] = keys[2];
          const outcome = await call(store, method, [...args, ...extra]).then(
            (value) =>
              kind !== 'notFound' && isMissing(kind, value) ? null : `resolved ${JSON.stringify(value)?.slice(0, 100)}`,
            (e: unknown) => (kind === 'notFound' && e instanceof NotFoundError ? null : describeError(e)),
          );
          if (outcome !== null)
            throw new Error(
              `${store}.${method}(${args.map((a) => JSON.stringify(a.slice(0, 40))).join(', ')}) expected ${kind} → ${outcome}`,
            );
        },
      ),
      { numRuns: RUNS * KEYED.length, endOnFailure: false },
    );
  });

  it('maps postgres.js UNDEFINED_VALUE to a ValidationError (the net under every store)', async () => {
    const raw = await db.sql`select ${undefined as never}`.then(
      () => null,
      (e: unknown) => e,
    );
    expect((raw as { code?: string }).code).toBe('UNDEFINED_VALUE');
    expect(mapDbError(raw, { entity: 'thing' })).toBeInstanceOf(ValidationError);
  });

  it('verifies a password of nobody as false / null', async () => {
    expect(await stores.credentials.verifyPassword('john.doe', 'pw')).toBe(false);
    expect(await stores.credentials.verifyByEmail('ZOË@nowhere', 'pw')).toBeNull();
  });

  it('names the missing field of an input', async () => {
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => stores.tenants.create({ id: 'x' } as never), 'name'],
      [() => stores.tenants.create({ name: 'X' } as never), 'id'],
      [() => stores.apps.create({ tenantId: 't', id: 'a', type: 'web' } as never), 'name'],
      [() => stores.apps.create({ id: 'a', name: 'A', type: 'web' } as never), 'tenantId'],
      [
        () => stores.branches.create({ tenantId: 't', appId: 'web', id: 'b', name: 'B', type: 'store' } as never),
        'code',
      ],
      [
        () => stores.memberships.add({ tenantId: 't', userId: '00000000-0000-7000-8000-000000000000' } as never),
        'username',
      ],
      [() => stores.userApps.grant('t', 'web', undefined as never), 'userId'],
    ];
    for (const [attempt, name] of cases) {
      const error = await call0(attempt).catch((e: unknown) => e);
      expect(error, describeError(error)).toBeInstanceOf(PgstoreError);
      expect((error as { field?: string }).field).toBe(name);
      expect((error as Error).message).toContain(name);
    }
  });
});
