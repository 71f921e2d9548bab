import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DumpSqlFilter, rolesInPrivilegeStatement } from '../../src/core/dump-load/sql-filter.js';

async function filter(text: string, options: { dropOwner?: boolean; roles?: string[]; chunk?: number } = {}) {
  const tables: string[] = [];
  const f = new DumpSqlFilter({
    dropOwner: options.dropOwner ?? true,
    roleExists: (r) => (options.roles ?? ['postgres', 'app']).includes(r),
    onTable: (t) => tables.push(t),
  });
  const bytes = Buffer.from(text);
  const size = options.chunk ?? bytes.length;
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from(chunks)
      .pipe(f)
      .on('data', (c: Buffer) => out.push(Buffer.from(c)))
      .on('end', resolve)
      .on('error', reject);
  });
  return { text: Buffer.concat(out).toString(), tables, filter: f };
}

const DUMP = [
  'CREATE TABLE public.t (x text);',
  'ALTER TABLE public.t OWNER TO postgres;',
  'CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $_$',
  'BEGIN',
  'ALTER TABLE public.t OWNER TO ghost;',
  'END',
  '$_$;',
  'ALTER FUNCTION public.f() OWNER TO postgres;',
  'COPY public.t (x) FROM stdin;',
  'ALTER TABLE public.t OWNER TO ghost;',
  'GRANT ALL ON TABLE public.t TO ghost;',
  '\\.',
  'GRANT SELECT ON TABLE public.t TO app;',
  'GRANT SELECT ON TABLE public.t TO ghost;',
  'REVOKE ALL ON SCHEMA public FROM PUBLIC;',
  'ALTER DEFAULT PRIVILEGES FOR ROLE ghost IN SCHEMA public GRANT SELECT ON TABLES TO app;',
  '',
].join('\n');

describe('DumpSqlFilter', () => {
  for (const chunk of [undefined, 1, 3, 7]) {
    it(`drops owners and grants to missing roles, but never inside COPY data or bodies (chunks of ${chunk ?? 'all'})`, async () => {
      const { text, tables, filter: f } = await filter(DUMP, { chunk });
      expect(text).toBe(
        [
          'CREATE TABLE public.t (x text);',
          'CREATE FUNCTION public.f() RETURNS void LANGUAGE plpgsql AS $_$',
          'BEGIN',
          'ALTER TABLE public.t OWNER TO ghost;',
          'END',
          '$_$;',
          'COPY public.t (x) FROM stdin;',
          'ALTER TABLE public.t OWNER TO ghost;',
          'GRANT ALL ON TABLE public.t TO ghost;',
          '\\.',
          'GRANT SELECT ON TABLE public.t TO app;',
          'REVOKE ALL ON SCHEMA public FROM PUBLIC;',
          '',
        ].join('\n'),
      );
      expect(tables).toEqual(['public.t']);
      expect(f.ownerStatementsDropped).toBe(2);
      expect(f.privilegeStatementsDropped).toBe(2);
      expect([...f.missingRoles]).toEqual(['ghost']);
    });
  }

  it('keeps owners with dropOwner false', async () => {
    const { text } = await filter(DUMP, { dropOwner: false, roles: ['postgres', 'app', 'ghost'] });
    expect(text).toBe(DUMP);
  });
});

describe('rolesInPrivilegeStatement', () => {
  it('finds grantees, grantors and FOR ROLE', () => {
    expect(
      rolesInPrivilegeStatement('GRANT SELECT(a, b) ON TABLE s.t TO "Mixed Case", app WITH GRANT OPTION;'),
    ).toEqual(['Mixed Case', 'app']);
    expect(rolesInPrivilegeStatement('REVOKE ALL ON FUNCTION f(a integer) FROM PUBLIC;')).toEqual([]);
    expect(rolesInPrivilegeStatement('GRANT USAGE ON SCHEMA s TO app GRANTED BY owner;')).toEqual(['owner', 'app']);
    expect(
      rolesInPrivilegeStatement('ALTER DEFAULT PRIVILEGES FOR ROLE own IN SCHEMA s REVOKE ALL ON TABLES FROM app;'),
    ).toEqual(['own', 'app']);
    expect(rolesInPrivilegeStatement('SET SESSION AUTHORIZATION grantor;')).toEqual(['grantor']);
    expect(rolesInPrivilegeStatement('CREATE TABLE t (x int);')).toEqual([]);
  });
});
