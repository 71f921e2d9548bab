/**
 * The form of an API key's secret, and the tenant it names.
 *
 *   <prefix>_<random>_<tenant id>     issued since migration 20261205000003
 *   <prefix>_<random>                 issued before it ("legacy")
 *
 * <random> is 43 base62 characters. The tenant id is in the secret so that verify can look the
 * key up by (tenant_id, secret_hash): on Citus, where app_keys is distributed by tenant_id, that
 * is one shard instead of all of them (README, "Citus readiness"). The hash covers the whole
 * secret, tenant id included, so changing the tenant part gives a hash no key has.
 *
 * The two forms cannot be confused: a prefix is at most 32 characters, so the first
 * '_'-delimited word of 43 characters is the random part; a legacy secret ends with it, a
 * current one continues with '_' and a tenant id.
 */

export const RANDOM_LENGTH = 43;

/** As the schema's tenants_id_check. */
const TENANT_ID = '[a-z0-9][a-z0-9_-]{0,62}';

// Lazy prefix: the first 43-character word is the random part (a prefix has no word that long).
const CURRENT = new RegExp(`^(.{1,32}?)_([0-9A-Za-z]{${RANDOM_LENGTH}})_(${TENANT_ID})$`);
const LEGACY = new RegExp(`^(.{1,32}?)_([0-9A-Za-z]{${RANDOM_LENGTH}})$`);

/** A secret in the current form. */
export function secretFor(prefix: string, random: string, tenantId: string): string {
  return `${prefix}_${random}_${tenantId}`;
}

/**
 * The tenant a secret names: its id for the current form, `legacy` for a secret issued before
 * tenants were in secrets, null for anything that is no secret of either form.
 */
export function tenantOfSecret(secret: string): { tenantId: string } | 'legacy' | null {
  const current = CURRENT.exec(secret);
  if (current) return { tenantId: current[3]! };
  return LEGACY.test(secret) ? 'legacy' : null;
}
