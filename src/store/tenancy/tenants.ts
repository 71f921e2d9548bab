/**
 * Tenants (tenancy.tenants): organisations, with soft delete. A soft-deleted tenant is left out
 * of get, getByName, exists and list unless `includeDeleted` is asked; its name may be reused.
 */
import { NotFoundError } from '../../errors.js';
import { type ErrorContext, guard, mapErrors } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import {
  type NewTenant,
  type Paging,
  type Tenant,
  type TenantPatch,
  type TenantStatus,
  jsonb,
  setList,
} from './types.js';
import { pageOf } from '../paging.js';
import { optionalObject, optionalText, optionsOf, plainObject, requireText, textKeys, shown } from '../validate.js';

const ctx: ErrorContext = {
  entity: 'tenant',
  uniqueFields: { tenants_pkey: 'id', tenants_name_key: 'name' },
};

const PATCH_COLUMNS = { name: 'name', domain: 'domain', status: 'status', settings: 'settings', metadata: 'metadata' };
const JSON_FIELDS = ['settings', 'metadata'];

export interface TenantVisibility {
  /** Also soft-deleted tenants (default false). */
  includeDeleted?: boolean;
}

export interface TenantListOptions extends TenantVisibility, Paging {
  status?: TenantStatus;
}

/** The tenants store on `sql` (a pool or a transaction). */
export function createTenantsStore(sql: Queryable) {
  const cols = () => sql`
    id, name, domain, status, settings, metadata,
    deleted_at as "deletedAt", created_at as "createdAt", updated_at as "updatedAt"`;

  async function get(id: string, options?: TenantVisibility): Promise<Tenant | null> {
    if (!textKeys(id)) return null;
    const includeDeleted = optionsOf('tenant', options).includeDeleted === true;
    const [row] = await sql<Tenant[]>`
      select ${cols()} from tenancy.tenants
       where id = ${id} and (${includeDeleted} or deleted_at is null)`;
    return row ?? null;
  }

  return {
    /** Creates a tenant; DuplicateError on `id` or on `name` (case-insensitive, among live tenants). */
    create: mapErrors(ctx, async (input: NewTenant): Promise<Tenant> => {
      plainObject('tenant', input);
      requireText('tenant', { id: input.id, name: input.name });
      optionalText('tenant', { domain: input.domain, status: input.status });
      optionalObject('tenant', { settings: input.settings, metadata: input.metadata });
      const [row] = await sql<Tenant[]>`
        insert into tenancy.tenants (id, name, domain, status, settings, metadata)
        values (${input.id}, ${input.name}, ${input.domain ?? null}, ${input.status ?? 'active'},
                ${jsonb(sql, input.settings ?? {})}, ${jsonb(sql, input.metadata ?? {})})
        returning ${cols()}`;
      return row!;
    }),

    /** The tenant, or null (also null when soft-deleted, unless includeDeleted). */
    get: (id: string, options?: TenantVisibility): Promise<Tenant | null> => guard(ctx, () => get(id, options)),

    /** The live tenant with this name (case-insensitive), or null. */
    getByName: mapErrors(ctx, async (name: string): Promise<Tenant | null> => {
      if (!textKeys(name)) return null;
      const [row] = await sql<Tenant[]>`
        select ${cols()} from tenancy.tenants where pgstore.casefold(name) = pgstore.casefold(${name}) and deleted_at is null`;
      return row ?? null;
    }),

    /** Changes the fields given (null clears `domain`); NotFoundError when missing or soft-deleted. */
    update: mapErrors(ctx, async (id: string, patch: TenantPatch): Promise<Tenant> => {
      const set = setList(sql, 'tenant', patch, PATCH_COLUMNS, JSON_FIELDS);
      if (!textKeys(id)) throw new NotFoundError('tenant', shown(id));
      const [row] = set
        ? await sql<
            Tenant[]
          >`update tenancy.tenants set ${set} where id = ${id} and deleted_at is null returning ${cols()}`
        : [await get(id)];
      if (!row) throw new NotFoundError('tenant', id);
      return row;
    }),

    /** Soft-deletes (sets deletedAt); a tenant deleted already is returned unchanged. NotFoundError when missing. */
    softDelete: mapErrors(ctx, async (id: string): Promise<Tenant> => {
      if (!textKeys(id)) throw new NotFoundError('tenant', shown(id));
      const [row] = await sql<Tenant[]>`
        update tenancy.tenants set deleted_at = now() where id = ${id} and deleted_at is null returning ${cols()}`;
      const tenant = row ?? (await get(id, { includeDeleted: true }));
      if (!tenant) throw new NotFoundError('tenant', id);
      return tenant;
    }),

    /** Undoes softDelete; a live tenant is returned unchanged. DuplicateError (name) when a live tenant took the name. */
    restore: mapErrors(ctx, async (id: string): Promise<Tenant> => {
      if (!textKeys(id)) throw new NotFoundError('tenant', shown(id));
      const [row] = await sql<Tenant[]>`
        update tenancy.tenants set deleted_at = null where id = ${id} and deleted_at is not null returning ${cols()}`;
      const tenant = row ?? (await get(id));
      if (!tenant) throw new NotFoundError('tenant', id);
      return tenant;
    }),

    /** Deletes for good, with its apps, branches, memberships, grants and keys. NotFoundError when missing. */
    delete: mapErrors(ctx, async (id: string): Promise<void> => {
      if (!textKeys(id)) throw new NotFoundError('tenant', shown(id));
      const rows = await sql`delete from tenancy.tenants where id = ${id} returning id`;
      if (rows.length === 0) throw new NotFoundError('tenant', id);
    }),

    /** Tenants, oldest first; soft-deleted ones only with includeDeleted. */
    list: mapErrors(ctx, async (listOptions?: TenantListOptions): Promise<Tenant[]> => {
      const options = optionsOf('tenant', listOptions);
      optionalText('tenant', { status: options.status });
      const { limit, offset } = pageOf(options);
      return sql<Tenant[]>`
        select ${cols()} from tenancy.tenants
         where (${options.includeDeleted === true} or deleted_at is null)
           and (${options.status ?? null}::text is null or status = ${options.status ?? null})
         order by created_at, id
         limit ${limit} offset ${offset}`;
    }),

    /** Whether the tenant exists (soft-deleted ones count only with includeDeleted). */
    exists: mapErrors(
      ctx,
      async (id: string, options?: TenantVisibility): Promise<boolean> => (await get(id, options)) !== null,
    ),
  };
}

export type TenantsStore = ReturnType<typeof createTenantsStore>;
