/**
 * Arrays of PostgreSQL's built-in types without postgres.js's per-connection type lookup.
 *
 * With `fetch_types` on (the driver's default), every new connection first queries pg_type for
 * the array types and installs a parser and a serializer for each (postgres.js 3.4.9,
 * src/connection.js fetchArrayTypes/addArrayType): 3-4.5 ms more CPU (client + server) per
 * connection (200 new pools with `select 1` each: 11.5-12.8 ms of CPU per pool with it, 8.3 ms
 * without, on the 2-core test machine), paid by every CLI command and every new pool connection. pgstore reads and binds arrays of built-in types only, and their OIDs are
 * fixed (PostgreSQL's pg_type.dat, the same on every major), so the table below is installed on
 * each pool instead and the pools run with `fetch_types: false` (driver.ts).
 *
 * The parser and serializer are ports of postgres.js's own (src/types.js arrayParser and
 * arraySerializer, MIT), quirks included, so that results and parameters stay what they were:
 * the package exports neither (its `exports` blocks deep imports, and the CLI is an esbuild
 * bundle), and a path into node_modules would break in the bundle or on an upgrade. Known
 * driver quirks kept on purpose: a NULL element comes back as the string 'NULL' (NaN for
 * numbers; upstream https://github.com/porsager/postgres/issues/1124 and /issues/1049), and
 * explicit bounds (`[0:1]={1,2}`) are not understood. test/integration/builtin-array-types.test.ts
 * compares every type here with a pool that fetches the types (the driver's own behaviour).
 */

/**
 * [element type OID, array type OID] of the built-in types pgstore can meet, as the driver's
 * lookup pairs them (int2vector and oidvector themselves come back as text, e.g. '1 2', with the
 * lookup too; their arrays are here). An array type missing here comes back as its text literal
 * ('{a,b}'), and a JS array bound to it as 'a,b': add it here and to the test.
 */
export const BUILTIN_ARRAY_TYPES: ReadonlyArray<readonly [element: number, array: number]> = [
  [16, 1000], // bool
  [17, 1001], // bytea
  [18, 1002], // "char"
  [19, 1003], // name
  [20, 1016], // int8
  [21, 1005], // int2
  [22, 1006], // int2vector
  [23, 1007], // int4
  [24, 1008], // regproc
  [25, 1009], // text
  [26, 1028], // oid
  [27, 1010], // tid
  [28, 1011], // xid
  [29, 1012], // cid
  [30, 1013], // oidvector
  [114, 199], // json
  [142, 143], // xml
  [650, 651], // cidr
  [700, 1021], // float4
  [701, 1022], // float8
  [869, 1041], // inet
  [1033, 1034], // aclitem
  [1042, 1014], // bpchar
  [1043, 1015], // varchar
  [1082, 1182], // date
  [1083, 1183], // time
  [1114, 1115], // timestamp
  [1184, 1185], // timestamptz
  [1186, 1187], // interval
  [1266, 1270], // timetz
  [1700, 1231], // numeric
  [2205, 2210], // regclass
  [2206, 2211], // regtype
  [2950, 2951], // uuid
  [3220, 3221], // pg_lsn
  [3802, 3807], // jsonb
];

type ElementParser = ((text: string) => unknown) | undefined;
type ElementSerializer = ((value: unknown) => unknown) | undefined;

/** The parts of the driver's options (`sql.options`, the object its connections read) used here. */
interface DriverTypeOptions {
  parsers: Record<number, ElementParser & { array?: boolean }>;
  serializers: Record<number, ElementSerializer>;
  shared: { typeArrayMap: Record<number, number> };
  transform: { undefined: unknown };
}

/**
 * Installs the table on a pool, as the driver's addArrayType does after its lookup: a parser
 * (marked `array`, so the driver hands it the literal without its leading '{'), a serializer,
 * and the element-to-array map `sql.array()` uses. The driver's connections read these very
 * objects (postgres.js src/index.js: `Connection(options)` and `sql.options` are one object).
 */
export function installBuiltinArrayTypes(sql: { options: object }): void {
  const options = sql.options as unknown as DriverTypeOptions;
  for (const [element, array] of BUILTIN_ARRAY_TYPES) {
    if (options.parsers[array] && options.serializers[array]) continue;
    const parseElement = options.parsers[element];
    options.shared.typeArrayMap[element] = array;
    const parser = (body: string) => parseArrayBody(body, parseElement, array);
    parser.array = true;
    options.parsers[array] = parser;
    options.serializers[array] = (value: unknown) =>
      serializeArray(value, options.serializers[element], options.transform.undefined, array);
  }
}

/** Only box (OID 1020 for its array) separates elements with ';'. */
const delimiterOf = (array: number) => (array === 1020 ? ';' : ',');

/** One parse's state, shared by the levels of a multi-dimensional literal (as in the driver). */
interface ParseState {
  i: number;
  char: string;
  str: string;
  quoted: boolean;
  last: number;
  previous: string | undefined;
}

/** An array literal as the server writes it, e.g. `{a,"b c",NULL}`, parsed (the driver's way). */
export function parseArrayLiteral(literal: string, parseElement: ElementParser, array = 0): unknown[] {
  return parseArrayBody(literal.slice(1), parseElement, array);
}

/** The literal without its leading '{' (what the driver passes to an `array` parser). */
function parseArrayBody(body: string, parseElement: ElementParser, array: number): unknown[] {
  return parseLevel(
    { i: 0, char: '', str: '', quoted: false, last: 0, previous: undefined },
    body,
    parseElement,
    array,
  );
}

function parseLevel(s: ParseState, x: string, parse: ElementParser, array: number): unknown[] {
  const xs: unknown[] = [];
  const delimiter = delimiterOf(array);
  const element = (text: string) => (parse ? parse(text) : text);
  for (; s.i < x.length; s.i++) {
    // s.char, not a local: after a nested level returns, `previous` must be that level's '}'.
    s.char = x[s.i]!;
    const char = s.char;
    if (s.quoted) {
      if (char === '\\') {
        s.str += x[++s.i];
      } else if (char === '"') {
        xs.push(element(s.str));
        s.str = '';
        s.quoted = x[s.i + 1] === '"';
        s.last = s.i + 2;
      } else {
        s.str += char;
      }
    } else if (char === '"') {
      s.quoted = true;
    } else if (char === '{') {
      s.last = ++s.i;
      xs.push(parseLevel(s, x, parse, array));
    } else if (char === '}') {
      s.quoted = false;
      if (s.last < s.i) xs.push(element(x.slice(s.last, s.i)));
      s.last = s.i + 1;
      break;
    } else if (char === delimiter && s.previous !== '}' && s.previous !== '"') {
      xs.push(element(x.slice(s.last, s.i)));
      s.last = s.i + 1;
    }
    s.previous = s.char;
  }
  if (s.last < s.i) xs.push(element(x.slice(s.last, s.i + 1)));
  return xs;
}

/** A JS array as an array literal (the driver's way: every element quoted, null as NULL). */
export function serializeArray(
  value: unknown,
  serializeElement: ElementSerializer,
  undefinedValue: unknown,
  array = 0,
): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length === 0) return '{}';
  const delimiter = delimiterOf(array);
  const first = value[0] as { type?: unknown } | undefined;
  if (Array.isArray(first) && !(first as { type?: unknown }).type)
    return `{${value.map((x) => serializeArray(x, serializeElement, undefinedValue, array)).join(delimiter)}}`;
  const item = (x: unknown) => {
    let v = x;
    if (v === undefined) {
      v = undefinedValue;
      if (v === undefined) throw undefinedValueError();
    }
    if (v === null) return 'null';
    const typed = v as { type?: unknown; value?: unknown };
    const text = serializeElement ? serializeElement(typed.type ? typed.value : v) : `${v}`;
    return `"${String(text).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  };
  return `{${value.map(item).join(delimiter)}}`;
}

/** The driver's own error for an undefined value (postgres.js src/errors.js `generic`). */
function undefinedValueError(): Error {
  return Object.assign(new Error('UNDEFINED_VALUE: Undefined values are not allowed'), { code: 'UNDEFINED_VALUE' });
}
