/**
 * A postgres.js pool for a test's own SQL, set up as pgstore's pools are: no array-type lookup
 * at connect (the built-in array types come from src/db/array-types.ts; the lookup was ~900
 * extra queries and ~3 ms of CPU per connection in a run), reserve() kept working
 * (src/db/reserve-settles.ts), notices dropped. Takes what postgres() takes.
 */
import postgres, { type Options, type PostgresType, type Sql } from 'postgres';
import { installBuiltinArrayTypes } from '../../src/db/array-types.js';
import { reserveSettles } from '../../src/db/reserve-settles.js';

type RawOptions = Options<Record<string, PostgresType>>;

export function rawSql(urlOrOptions: string | RawOptions, options: RawOptions = {}): Sql {
  const settings = {
    onnotice: () => undefined,
    ...(typeof urlOrOptions === 'string' ? options : urlOrOptions),
    fetch_types: false,
  };
  const sql = typeof urlOrOptions === 'string' ? postgres(urlOrOptions, settings) : postgres(settings);
  installBuiltinArrayTypes(sql);
  reserveSettles(sql);
  return sql;
}
