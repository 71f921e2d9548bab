/**
 * The library's connect(): a URL as the first argument like postgres.js, and no option
 * silently ignored (connect({ url }) once connected to the default database instead).
 */
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/connect.js';
import { ValidationError } from '../../src/errors.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();

async function refused(attempt: () => Promise<unknown>): Promise<ValidationError> {
  const error = await attempt().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return error as ValidationError;
}

describe('connect', () => {
  it('takes a URL as its first argument, with options after it', async () => {
    const database = await connect(db.url, { max: 2, applicationName: 'connect-test' });
    try {
      const [row] = await database.sql<
        { db: string; app: string }[]
      >`select current_database() as db, current_setting('application_name') as app`;
      expect(row).toEqual({ db: db.name, app: 'connect-test' });
      expect(await database.users.getByEmail('nobody@example.com')).toBeNull();
    } finally {
      await database.close();
    }
  });

  it("reserve() on the library's pool settles when it has to open a connection", async () => {
    // postgres.js 3.4.9 with fetch_types off never settles such a reserve() (porsager/postgres#751);
    // the library's pool keeps the lookup on (src/connect.ts).
    const database = await connect(db.url, { max: 2 });
    try {
      const deadline = (what: string) =>
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} still pending after 5 s`)), 5000));
      // The pool's one open connection is reserved: a second reserve() has to open another.
      const first = await Promise.race([database.sql.reserve(), deadline('reserve()')]);
      const second = await Promise.race([database.sql.reserve(), deadline('a second reserve()')]);
      const [row] = await second<{ one: number }[]>`select 1 as one`;
      expect(row?.one).toBe(1);
      second.release();
      first.release();
    } finally {
      await database.close();
    }
  });

  it('still takes { databaseUrl }', async () => {
    const database = await connect({ databaseUrl: db.url, env: {} });
    try {
      expect(database.connection.database).toBe(db.name);
    } finally {
      await database.close();
    }
  });

  it('refuses an unknown option, naming it and the nearest known one', async () => {
    const url = await refused(() => connect({ url: db.url } as never));
    expect(url.field).toBe('url');
    expect(url.message).toBe("connect: unknown option 'url' (did you mean 'databaseUrl'?)");
    expect((await refused(() => connect({ databseUrl: db.url } as never))).message).toContain(
      "did you mean 'databaseUrl'",
    );
    expect((await refused(() => connect({ applicationname: 'x' } as never))).message).toContain(
      "did you mean 'applicationName'",
    );
    const odd = await refused(() => connect(db.url, { ssl: true } as never));
    expect(odd.message).toBe("connect: unknown option 'ssl'");
    expect(odd.hint).toContain('databaseUrl, env, max, applicationName');
  });

  it('refuses options of the wrong type and a URL given twice', async () => {
    expect((await refused(() => connect({ max: 0 }))).field).toBe('max');
    expect((await refused(() => connect({ databaseUrl: 42 } as never))).field).toBe('databaseUrl');
    expect((await refused(() => connect(db.url, { databaseUrl: db.url } as never))).field).toBe('databaseUrl');
    expect((await refused(() => connect('x' as never, 'y' as never))).field).toBe('options');
  });
});
