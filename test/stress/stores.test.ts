/**
 * The auth and tenancy stores' single-winner promises, tried from separate connections (a
 * pool and a set of stores of its own per contender) for many rounds: nonces are consumed
 * once, an API key has one successor, one email is one user (whatever its letter case, ASCII
 * or not), one member is one membership, and the other "exactly one wins" of the README.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ConcurrentWriteConflictError, DuplicateError, NotFoundError } from '../../src/errors.js';
import { createStores, type Stores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';
import { rounds, separateConnections, together, tryPromise } from './harness.js';

const db = useTestDatabase();
const N = 6;
let contenders: Stores[];
let end: () => Promise<void>;
let run = 0;

beforeAll(async () => {
  const opened = await separateConnections(db.url, N);
  contenders = opened.pools.map((pool) => createStores(pool));
  end = opened.end;
  await contenders[0]!.tenants.create({ id: 't', name: 'T' });
  await contenders[0]!.apps.create({ tenantId: 't', id: 'web', name: 'Web', type: 'web' });
});
afterAll(async () => end?.());

const ok = <T>(r: PromiseSettledResult<T>): r is PromiseFulfilledResult<T> => r.status === 'fulfilled';
const failedOtherwise = (results: PromiseSettledResult<unknown>[], expected: (e: unknown) => boolean) =>
  results
    .filter((r) => r.status === 'rejected' && !expected(r.reason))
    .map((r) => String((r as PromiseRejectedResult).reason));
const unique = () => `${process.pid}-${run++}`;
const all = <T>(fn: (stores: Stores, i: number) => Promise<T>) =>
  together(contenders.map((stores, i) => () => fn(stores, i)));

// Spellings of one address: ASCII and non-ASCII case, composed and decomposed, ß and SS, σ/ς/Σ.
function spellings(id: string): string[] {
  const base = `zoë.straße.οδος-${id}@bücher.example`;
  return [
    base,
    base.toUpperCase(),
    base.normalize('NFD'),
    `Zoë.STRASSE.ΟΔΟΣ-${id}@BÜCHER.example`,
    `zoË.strasse.οδοσ-${id}@büCHER.EXAMPLE`,
    base.toUpperCase().normalize('NFD'),
  ];
}

describe('single winners under concurrency (separate connections)', () => {
  it('a nonce is consumed exactly once', async () => {
    await tryPromise('nonces.consume: N consumers, exactly one gets it', rounds(15, 1050), async () => {
      const value = `n-${unique()}`;
      await contenders[0]!.nonces.create(value, 60);
      const results = await all((s) => s.nonces.consume(value));
      const winners = results.filter((r) => ok(r) && r.value !== null).length;
      const errors = failedOtherwise(results, () => false);
      return winners === 1 && errors.length === 0 ? null : `${winners} winners, errors: ${errors.join('; ')}`;
    });
  });

  it('an API key rotated concurrently has exactly one successor and is retired once', async () => {
    await tryPromise('appKeys.rotate: N rotations, one successor, old key retired once', rounds(10, 750), async () => {
      const { key, secret } = await contenders[0]!.appKeys.create({
        tenantId: 't',
        appId: 'web',
        name: `k-${unique()}`,
      });
      const results = await all((s) => s.appKeys.rotate('t', 'web', key.keyId));
      const winners = results.filter(ok);
      const errors = failedOtherwise(results, (e) => e instanceof ConcurrentWriteConflictError);
      const [successors] = await db.sql<{ n: number; live: number }[]>`
        select count(*)::int as n, count(*) filter (where revoked_at is null)::int as live from tenancy.app_keys where rotated_from = ${key.id}`;
      const [old] = await db.sql<
        { revokedAt: Date | null }[]
      >`select revoked_at as "revokedAt" from tenancy.app_keys where id = ${key.id}`;
      const problems = [];
      if (winners.length !== 1) problems.push(`${winners.length} rotations succeeded`);
      if (errors.length) problems.push(`errors: ${errors.join('; ')}`);
      if (successors!.n !== 1 || successors!.live !== 1)
        problems.push(`${successors!.n} successors (${successors!.live} live)`);
      if (!old?.revokedAt || (winners[0] && old.revokedAt.getTime() !== winners[0].value.previous.revokedAt?.getTime()))
        problems.push('the old key was retired more than once');
      if ((await contenders[1]!.appKeys.verify(secret)) !== null) problems.push('the old secret still verifies');
      if (winners[0] && (await contenders[2]!.appKeys.verify(winners[0].value.secret))?.id !== winners[0].value.key.id)
        problems.push('the new secret does not verify');
      return problems.length ? problems.join(', ') : null;
    });
  });

  it('getOrCreateByEmail makes one user for one email in any case', async () => {
    await tryPromise(
      'users.getOrCreateByEmail: N callers, case variants (non-ASCII too), one user',
      rounds(15, 1050),
      async () => {
        const emails = spellings(unique());
        const results = await all((s, i) => s.users.getOrCreateByEmail(emails[i % emails.length]!));
        const values = results.filter(ok).map((r) => r.value);
        const errors = failedOtherwise(results, () => false);
        const ids = new Set(values.map((v) => v.user.id));
        const created = values.filter((v) => v.created).length;
        const [rows] = await db.sql<
          { n: number }[]
        >`select count(*)::int as n from auth.users where pgstore.casefold(email) = pgstore.casefold(${emails[0]!})`;
        return errors.length === 0 && ids.size === 1 && created === 1 && rows!.n === 1
          ? null
          : `${ids.size} ids, ${created} created, ${rows!.n} rows, errors: ${errors.join('; ')}`;
      },
    );
  });

  it('users.create: one email in any case makes one user, the others are DuplicateError', async () => {
    await tryPromise('users.create: N creators, case variants, one user', rounds(15, 1050), async () => {
      const emails = spellings(unique());
      const results = await all((s, i) => s.users.create({ email: emails[i % emails.length]! }));
      const errors = failedOtherwise(results, (e) => e instanceof DuplicateError && e.field === 'email');
      const winners = results.filter(ok).length;
      return winners === 1 && errors.length === 0 ? null : `${winners} created, errors: ${errors.join('; ')}`;
    });
  });

  it('a member added concurrently is one membership; a username in any case is taken once', async () => {
    await tryPromise('memberships.add: N adds of one member, one membership', rounds(15, 1050), async () => {
      const user = await contenders[0]!.users.create({ email: `m-${unique()}@example.com` });
      const results = await all((s, i) =>
        s.memberships.add({ tenantId: 't', userId: user.id, username: `m${i}-${user.id}` }),
      );
      const errors = failedOtherwise(results, (e) => e instanceof DuplicateError && e.field === 'userId');
      const [rows] = await db.sql<
        { n: number }[]
      >`select count(*)::int as n from tenancy.memberships where tenant_id = 't' and user_id = ${user.id}`;
      const winners = results.filter(ok).length;
      return winners === 1 && rows!.n === 1 && errors.length === 0
        ? null
        : `${winners} added, ${rows!.n} rows, errors: ${errors.join('; ')}`;
    });
    await tryPromise(
      'memberships.add: N users, one username in case variants, one taker',
      rounds(10, 750),
      async () => {
        const id = unique();
        const users = await Promise.all(
          contenders.map((_, i) => contenders[0]!.users.create({ email: `u${i}-${id}@example.com` })),
        );
        const names = [
          `Ögon-${id}`,
          `ÖGON-${id}`,
          `ögon-${id}`,
          `O\u0308gon-${id}`,
          `öGON-${id}`,
          `Ögon-${id}`.normalize('NFD'),
        ];
        const results = await all((s, i) =>
          s.memberships.add({ tenantId: 't', userId: users[i]!.id, username: names[i % names.length]! }),
        );
        const errors = failedOtherwise(results, (e) => e instanceof DuplicateError && e.field === 'username');
        const winners = results.filter(ok).length;
        return winners === 1 && errors.length === 0 ? null : `${winners} added, errors: ${errors.join('; ')}`;
      },
    );
  });

  it('concurrent adds and removes of one member leave a state that matches who won', async () => {
    await tryPromise(
      'memberships.add/remove: concurrent, final state = adds won - removes won',
      rounds(10, 750),
      async () => {
        const user = await contenders[0]!.users.create({ email: `ar-${unique()}@example.com` });
        const problems: string[] = [];
        let adds = 0;
        let removes = 0;
        for (let wave = 0; wave < 3; wave++) {
          const results = await all((s, i) =>
            i % 2 === 0
              ? s.memberships
                  .add({ tenantId: 't', userId: user.id, username: `ar-${user.id}` })
                  .then(() => 'add' as const)
              : s.memberships.remove('t', user.id).then(() => 'remove' as const),
          );
          adds += results.filter((r) => ok(r) && r.value === 'add').length;
          removes += results.filter((r) => ok(r) && r.value === 'remove').length;
          problems.push(
            ...failedOtherwise(
              results,
              (e) => e instanceof NotFoundError || (e instanceof DuplicateError && e.field === 'userId'),
            ),
          );
        }
        const present = (await contenders[1]!.memberships.get('t', user.id)) !== null ? 1 : 0;
        if (adds - removes !== present)
          problems.push(`${adds} adds and ${removes} removes won, but the member is ${present ? 'present' : 'absent'}`);
        return problems.length ? problems.join('; ') : null;
      },
    );
  });

  it('other single winners: roles.assign, externalLogins.link, sessions.delete, tenants.create by name', async () => {
    await tryPromise('roles.assign: N assigns of one role, exactly one "newly assigned"', rounds(10, 600), async () => {
      const user = await contenders[0]!.users.create({ email: `r-${unique()}@example.com` });
      const results = await all((s) => s.roles.assign(user.id, 'admin'));
      const fresh = results.filter((r) => ok(r) && r.value === true).length;
      const errors = failedOtherwise(results, () => false);
      return fresh === 1 && errors.length === 0 ? null : `${fresh} newly assigned, errors: ${errors.join('; ')}`;
    });
    await tryPromise('externalLogins.link: one identity, N users, one owner', rounds(10, 600), async () => {
      const id = unique();
      const users = await Promise.all(
        contenders.map((_, i) => contenders[0]!.users.create({ email: `x${i}-${id}@example.com` })),
      );
      const results = await all((s, i) =>
        s.externalLogins.link({ userId: users[i]!.id, provider: 'github', subject: `s-${id}` }),
      );
      const errors = failedOtherwise(results, (e) => e instanceof DuplicateError);
      const winners = results.filter(ok).length;
      return winners === 1 && errors.length === 0 ? null : `${winners} linked, errors: ${errors.join('; ')}`;
    });
    await tryPromise('sessions.delete: N sign-outs of one token, exactly one ends it', rounds(10, 600), async () => {
      const user = await contenders[0]!.users.create({ email: `s-${unique()}@example.com` });
      const { token } = await contenders[0]!.sessions.create({ userId: user.id });
      const results = await all((s) => s.sessions.delete(token));
      const errors = failedOtherwise(results, (e) => e instanceof NotFoundError);
      const winners = results.filter(ok).length;
      return winners === 1 && errors.length === 0 ? null : `${winners} ended it, errors: ${errors.join('; ')}`;
    });
    await tryPromise('tenants.create: one name in case variants, one tenant', rounds(10, 600), async () => {
      const id = unique();
      const names = [
        `Bücher ${id}`,
        `BÜCHER ${id}`,
        `bücher ${id}`,
        `Bu\u0308cher ${id}`,
        `bÜcher ${id}`,
        `BU\u0308CHER ${id}`,
      ];
      const results = await all((s, i) =>
        s.tenants.create({ id: `b${i}-${id}`.replace(/[^a-z0-9_-]/g, '-'), name: names[i % names.length]! }),
      );
      const errors = failedOtherwise(results, (e) => e instanceof DuplicateError && e.field === 'name');
      const winners = results.filter(ok).length;
      return winners === 1 && errors.length === 0 ? null : `${winners} created, errors: ${errors.join('; ')}`;
    });
  });
});
