/**
 * The tests' servers keep their superuser's password as a cheap SCRAM verifier
 * with 1,000 iterations (test/helpers/scram-verifier.ts): the right password still gets in, a wrong one does not.
 */
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../helpers/db.js';
import { rawSql } from '../helpers/raw-sql.js';
import { cheapScramVerifier } from '../helpers/scram-verifier.js';

const db = useTestDatabase();

describe("the test server's superuser password", () => {
  it('is stored with 1,000 PBKDF2 iterations', async () => {
    const [row] = await db.sql<
      { verifier: string }[]
    >`select rolpassword as verifier from pg_authid where rolname = current_user`;
    expect(row!.verifier).toMatch(/^SCRAM-SHA-256\$1000:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  });

  it('lets the right password in and refuses a wrong one, for a role made with the helper', async () => {
    const role = `cheap_${Math.random().toString(36).slice(2, 8)}`;
    await db.sql.unsafe(`create role ${role} login password '${cheapScramVerifier('right horse')}'`);
    try {
      const url = (password: string) => {
        const u = new URL(db.url);
        u.username = role;
        u.password = password;
        return u.toString();
      };
      const good = rawSql(url('right horse'), { max: 1 });
      expect((await good<{ who: string }[]>`select current_user as who`)[0]!.who).toBe(role);
      await good.end({ timeout: 5 });
      const bad = rawSql(url('wrong horse'), { max: 1 });
      await expect(bad`select 1`).rejects.toMatchObject({ code: '28P01' });
      await bad.end({ timeout: 5 });
    } finally {
      await db.sql.unsafe(`drop role ${role}`);
    }
    expect(inject('pgServer').password.length).toBeGreaterThan(8);
  });
});
