/**
 * Objects that JSON cannot hold (a BigInt, a cycle), given for a jsonb column, are a
 * ValidationError naming the field, never postgres.js's TypeError ("Do not know how to
 * serialize a BigInt"): found by store-odd-input.test.ts's property, seed 818287256.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { createStores } from '../../src/store/index.js';
import { useTestDatabase } from '../helpers/db.js';

const db = useTestDatabase();
const NOBODY = '00000000-0000-0000-0000-000000000000';

describe('JSON input the stores cannot store', () => {
  it('a BigInt or a cycle in preferences, profile metadata or a tenant: ValidationError naming the field', async () => {
    const stores = createStores(db.sql);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const refused = async (write: Promise<unknown>, field: string) => {
      const error = await write.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ field });
      expect((error as Error).message).toMatch(/cannot be stored as JSON/);
    };
    await refused(stores.preferences.upsert(NOBODY, { scopes: [0n] }), 'preferences');
    await refused(stores.preferences.merge(NOBODY, { deep: { n: 1n } }), 'preferences');
    await refused(stores.profiles.upsert(NOBODY, { metadata: cycle }), 'metadata');
    await refused(stores.tenants.create({ id: 'json-input', name: 'JSON input', metadata: { n: 2n } }), 'metadata');
    expect(await db.sql`select 1 from tenancy.tenants where id = 'json-input'`).toHaveLength(0);
  });
});
