/**
 * pgstore's pools skip the driver's array-type lookup at connect (fetch_types off) and install
 * a static table of the built-in array types instead (src/db/array-types.ts). Every type in the
 * table is compared both ways, as a result column and as a bound parameter, with a pool that
 * does the lookup (the driver's own behaviour is the oracle): NULL elements, empty and
 * multi-dimensional arrays, quotes, backslashes, commas, braces, unicode. Without the table the
 * pgstore pool returns array literals as strings and binds arrays as 'a,b': every case fails.
 */
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ARRAY_TYPES } from '../../src/db/array-types.js';
import { type Db, driverOptions, openPool } from '../../src/db/driver.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
let oracle: Db;

/** A pool as pgstore opens them (openPool's defaults: the static table, no lookup). */
let pgstorePool: Db;
beforeAll(async () => {
  pgstorePool = await openPool(db.conn, { max: 1 });
  // The driver alone, looking the types up at connect (not openPool, which installs the table).
  oracle = postgres(driverOptions(db.conn, { max: 1, fetchTypes: true }));
  await oracle`select 1`; // the lookup runs on the first connection; sql.array() needs its map
});
afterAll(() => Promise.all([oracle?.end({ timeout: 5 }), pgstorePool?.end({ timeout: 5 })]));

/** Array literals (SQL expressions) per type; each also gets `{}` and NULL, and most `{NULL}` and a 2-D NULL array. */
const CASES: Record<number, { type: string; values: string[] }> = {
  1000: { type: 'bool', values: [`'{t,f,NULL}'`, `'{{t,f},{f,t}}'`] },
  1001: { type: 'bytea', values: [`'{"\\\\x00ff",NULL,"\\\\x"}'`, `array['\\x7b7d'::bytea, 'a"b\\\\c'::bytea]`] },
  1002: { type: '"char"', values: [`'{a,b,NULL,"\\"",","}'`] },
  1003: { type: 'name', values: [`'{abc,"with space","q\\"uote",NULL,"é漢"}'`] },
  1016: { type: 'int8', values: [`'{1,-9223372036854775808,9223372036854775807,NULL}'`, `'{{1,2},{3,4}}'`] },
  1005: { type: 'int2', values: [`'{1,-32768,32767,NULL}'`] },
  1006: { type: 'int2vector', values: [`'{"1 2 3","4",""}'`] },
  1007: {
    type: 'int4',
    values: [`'{1,NULL,-2147483648}'`, `'{{1,2},{3,4}}'`, `'{{{1},{2}},{{3},{4}}}'`, `'[0:1]={5,6}'`],
  },
  1008: { type: 'regproc', values: [`'{now,version,NULL}'`] },
  1009: {
    type: 'text',
    values: [
      `array['a', null, 'NULL', 'null', '', 'b"c', 'd\\e', 'x,y', '{z}', ' sp ', 'é漢字😀', e'tab\\tnl\\n']`,
      `'{{a,"b,c"},{"{}",NULL}}'`,
      `array[array[array['"', '\\\\']]]`,
    ],
  },
  1028: { type: 'oid', values: [`'{0,1,4294967295,NULL}'`] },
  1010: { type: 'tid', values: [`'{"(0,1)","(4294967295,65535)",NULL}'`] },
  1011: { type: 'xid', values: [`'{1,4294967295,NULL}'`] },
  1012: { type: 'cid', values: [`'{0,7,NULL}'`] },
  1013: { type: 'oidvector', values: [`'{"23 25","26",""}'`] },
  199: {
    type: 'json',
    values: [`array['{"a": [1, "x\\"y"]}', '"s,t"', '[]', '1e3']::json[]`, `array['null', null]::json[]`],
  },
  143: { type: 'xml', values: [`array['<a b="c">x,y</a>'::xml, '<é/>'::xml, null]`] },
  651: { type: 'cidr', values: [`'{10.0.0.0/8,::/0,NULL}'`] },
  1021: { type: 'float4', values: [`'{1.5,-0,NaN,Infinity,-Infinity,3.4e38,NULL}'`] },
  1022: { type: 'float8', values: [`'{1.5,-0,NaN,Infinity,-Infinity,1e308,5e-324,NULL}'`, `'{{1,2},{3,4}}'`] },
  1041: { type: 'inet', values: [`'{127.0.0.1,::1/128,192.168.0.1/24,NULL}'`] },
  1034: { type: 'aclitem', values: [`array[makeaclitem(10, 10, 'SELECT', false), makeaclitem(0, 10, 'USAGE', true)]`] },
  1014: { type: 'char(3)', values: [`'{ab,"a,",NULL,""}'`] },
  1015: { type: 'varchar', values: [`'{a,"b,c","d\\"e",NULL,"ü"}'`] },
  1182: { type: 'date', values: [`'{2024-02-29,1970-01-01}'`, `'{2024-02-29,infinity,-infinity,0001-01-01 BC,NULL}'`] },
  1183: { type: 'time', values: [`'{00:00:00,23:59:59.999999,24:00:00,NULL}'`] },
  1115: {
    type: 'timestamp',
    values: [
      `'{"2024-02-29 12:34:56.123456","1970-01-01 00:00:00"}'`,
      `'{"2024-02-29 12:34:56.123456",infinity,NULL}'`,
    ],
  },
  1185: {
    type: 'timestamptz',
    values: [
      `'{"2024-02-29 12:34:56.123+02","1970-01-01 00:00:00+00"}'`,
      `'{"2024-02-29 12:34:56.123456+02","1970-01-01 00:00:00+00",-infinity,NULL}'`,
    ],
  },
  1187: { type: 'interval', values: [`'{"1 day 02:00:00","-1 mons",NULL,"00:00:00"}'`] },
  1270: { type: 'timetz', values: [`'{"12:00:00+02","00:00:00-12:30",NULL}'`] },
  1231: { type: 'numeric', values: [`'{1.10,-0.000001,NaN,1e30,NULL}'`, `'{{1.5,2},{3,4}}'`] },
  2210: { type: 'regclass', values: [`'{pg_class,pg_catalog.pg_type,NULL}'`] },
  2211: { type: 'regtype', values: [`'{integer,"character varying",text[],NULL}'`] },
  2951: {
    type: 'uuid',
    values: [`'{00000000-0000-0000-0000-000000000000,a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'`],
  },
  3221: { type: 'pg_lsn', values: [`'{0/0,16/B374D848,NULL}'`] },
  3807: {
    type: 'jsonb',
    values: [`array['{"b": [1, "x\\"y"]}', '"s,t"', '{}', '1.5']::jsonb[]`, `array['null', null]::jsonb[]`],
  },
};
const GENERIC = [`'{}'`, `'{NULL}'`, `'{{NULL,NULL},{NULL,NULL}}'`, 'NULL'];

/** A comparable form: Dates (also invalid ones), Buffers, NaN and -0 spelt out. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value instanceof Date) return { date: Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString() };
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') };
  if (typeof value === 'number' && (Number.isNaN(value) || Object.is(value, -0))) return { number: String(value) };
  return value;
}

/** What a query gives: its rows (normalized) or its error's code and message. */
async function outcome(query: Promise<Record<string, unknown>[]>): Promise<unknown> {
  try {
    return { rows: (await query).map((row) => normalize({ ...row })) };
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    return { error: `${code} ${message}` };
  }
}

describe('the static table of built-in array types', () => {
  it('is what pgstore pools use, instead of a lookup at each connect', () => {
    expect(pgstorePool.options.fetch_types).toBe(false);
    expect(oracle.options.fetch_types).toBe(true);
  });

  it('pairs each element type with its array type as the server does, and each pair has cases here', async () => {
    const elements = BUILTIN_ARRAY_TYPES.map(([element]) => element);
    const rows = await pgstorePool<{ oid: number; typarray: number }[]>`
      select oid::int as oid, typarray::int as typarray from pg_type where oid = any(${elements}::oid[]) order by oid`;
    expect(rows.map((r) => [r.oid, r.typarray])).toEqual([...BUILTIN_ARRAY_TYPES].sort((a, b) => a[0] - b[0]));
    expect(Object.keys(CASES).map(Number).sort()).toEqual(BUILTIN_ARRAY_TYPES.map(([, array]) => array).sort());
  });
});

describe.each(BUILTIN_ARRAY_TYPES.map(([element, array]) => ({ element, array, ...CASES[array]! })))(
  '$type[] ($array)',
  ({ array, type, values }) => {
    // The first sample without its NULL elements too (the driver reads those back as 'NULL' or NaN).
    const withoutNulls = `array(select x from unnest((${values[0]})::${type}[]) x where x is not null)`;
    const literals = [...values, withoutNulls, ...GENERIC];

    it('parses as a result column as the driver does', async () => {
      let parsed = 0; // queries that gave rows (a NULL json element fails the query, both ways: JSON.parse('NULL'))
      for (const literal of literals) {
        const query = `select (${literal})::${type}[] as v`;
        expect(await outcome(pgstorePool.unsafe(query)), query).toEqual(await outcome(oracle.unsafe(query)));
        const result = await pgstorePool.unsafe(query).catch(() => undefined);
        if (!result) continue;
        expect(result.columns[0]!.type, query).toBe(array);
        const value = result[0]!.v;
        if (literal !== 'NULL') expect(Array.isArray(value), query).toBe(true);
        if (Array.isArray(value) && value.length > 0) parsed++;
      }
      expect(parsed).toBeGreaterThan(0);
    });

    it('binds as a parameter as the driver does (a plain array and sql.array)', async () => {
      let bound = 0; // values the server took (the driver's NULL-element quirk makes some fail, both ways)
      for (const literal of literals) {
        const rows = await oracle.unsafe(`select (${literal})::${type}[] as v`).catch(() => undefined);
        if (!rows) continue; // the driver cannot read it (a NULL json element)
        const value = rows[0]!.v as unknown[] | null;
        const query = `select $1::${type}[] as v, $1::${type}[]::text as t`;
        const plain = (sql: Db) => sql.unsafe(query, [value as never]);
        const ours = await outcome(plain(pgstorePool));
        expect(ours, literal).toEqual(await outcome(plain(oracle)));
        if (value === null) continue;
        const typed = (sql: Db) => sql.unsafe(query, [sql.array(value as never[])]);
        const oursTyped = await outcome(typed(pgstorePool));
        expect(oursTyped, literal).toEqual(await outcome(typed(oracle)));
        bound +=
          Number(value.length > 0 && 'rows' in (ours as object)) +
          Number(value.length > 0 && 'rows' in (oursTyped as object));
      }
      expect(bound).toBeGreaterThan(0);
    });
  },
);

describe('text[] round trips (fast-check)', () => {
  const tricky = fc.constantFrom('"', '\\', ',', '{', '}', '{}', 'NULL', 'null', ' ', '', '\t', '\n', 'é', '😀', '漢');
  const text = fc
    .oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: tricky }), fc.string({ unit: 'binary-ascii' }))
    .filter((s) => !s.includes('\0'));
  const roundTrip = (sql: Db, value: unknown) =>
    sql<{ v: unknown; t: string }[]>`select ${value as string[]}::text[] as v, ${value as string[]}::text[]::text as t`;

  it('a bound string array comes back equal, and as the driver gives it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(text, { maxLength: 8 }), async (value) => {
        const [ours] = await roundTrip(pgstorePool, value);
        expect(ours!.v).toEqual(value);
        expect(await outcome(roundTrip(pgstorePool, value))).toEqual(await outcome(roundTrip(oracle, value)));
      }),
      { numRuns: 150 },
    );
  });

  it('with NULL elements and two dimensions, as the driver gives it', async () => {
    const element = fc.option(text, { nil: null });
    const matrix = fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }))
      .chain(([rows, cols]) =>
        fc.array(fc.array(element, { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows }),
      );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(element, { maxLength: 6 }), matrix), async (value) => {
        expect(await outcome(roundTrip(pgstorePool, value))).toEqual(await outcome(roundTrip(oracle, value)));
      }),
      { numRuns: 100 },
    );
  });
});
