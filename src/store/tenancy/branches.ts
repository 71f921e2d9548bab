/**
 * Branches (tenancy.branches): locations of a tenant's app. Keyed by (tenant, app, id); the
 * code is unique per app.
 */
import { NotFoundError } from '../../errors.js';
import { type ErrorContext, guard, mapErrors } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import {
  type Branch,
  type BranchPatch,
  type BranchStatus,
  type NewBranch,
  type Paging,
  jsonb,
  setList,
} from './types.js';
import { pageOf } from '../paging.js';
import { optionalObject, optionalText, optionsOf, plainObject, requireText, textKeys, shown } from '../validate.js';

const ctx: ErrorContext = {
  entity: 'branch',
  uniqueFields: { branches_pkey: 'id', branches_code_key: 'code' },
};

const PATCH_COLUMNS = {
  code: 'code',
  name: 'name',
  type: 'type',
  status: 'status',
  address: 'address',
  contact: 'contact',
  settings: 'settings',
  metadata: 'metadata',
};
const JSON_FIELDS = ['address', 'contact', 'settings', 'metadata'];

export interface BranchListOptions extends Paging {
  type?: string;
  status?: BranchStatus;
}

/** The branches store on `sql` (a pool or a transaction). */
export function createBranchesStore(sql: Queryable) {
  const cols = () => sql`
    tenant_id as "tenantId", app_id as "appId", id, code, name, type, status,
    address, contact, settings, metadata, created_at as "createdAt", updated_at as "updatedAt"`;
  const key = (tenantId: string, appId: string, id: string) => `${shown(tenantId)}/${shown(appId)}/${shown(id)}`;

  async function get(tenantId: string, appId: string, id: string): Promise<Branch | null> {
    if (!textKeys(tenantId, appId, id)) return null;
    const [row] = await sql<Branch[]>`
      select ${cols()} from tenancy.branches where tenant_id = ${tenantId} and app_id = ${appId} and id = ${id}`;
    return row ?? null;
  }

  function list(tenantId: string, appId: string, listOptions?: BranchListOptions): Promise<Branch[]> {
    return guard(ctx, async () => {
      const options = optionsOf('branch', listOptions);
      optionalText('branch', { type: options.type, status: options.status });
      const { limit, offset } = pageOf(options);
      if (!textKeys(tenantId, appId)) return [];
      return sql<Branch[]>`
      select ${cols()} from tenancy.branches
       where tenant_id = ${tenantId} and app_id = ${appId}
         and (${options.type ?? null}::text is null or type = ${options.type ?? null})
         and (${options.status ?? null}::text is null or status = ${options.status ?? null})
       order by code, id
       limit ${limit} offset ${offset}`;
    });
  }

  return {
    /** Creates a branch; DuplicateError on `id` or `code` (per app), ForeignKeyError for an unknown app. */
    create: (input: NewBranch): Promise<Branch> =>
      guard(
        {
          ...ctx,
          foreignKeys: {
            branches_tenant_id_app_id_fkey: `app ${shown(input?.tenantId)}/${shown(input?.appId)} does not exist`,
          },
        },
        async () => {
          plainObject('branch', input);
          requireText('branch', {
            tenantId: input.tenantId,
            appId: input.appId,
            id: input.id,
            code: input.code,
            name: input.name,
            type: input.type,
          });
          optionalText('branch', { status: input.status });
          optionalObject('branch', {
            address: input.address,
            contact: input.contact,
            settings: input.settings,
            metadata: input.metadata,
          });
          const [row] = await sql<Branch[]>`
            insert into tenancy.branches (tenant_id, app_id, id, code, name, type, status, address, contact, settings, metadata)
            values (${input.tenantId}, ${input.appId}, ${input.id}, ${input.code}, ${input.name}, ${input.type},
                    ${input.status ?? 'active'}, ${jsonb(sql, input.address)}, ${jsonb(sql, input.contact)},
                    ${jsonb(sql, input.settings ?? {})}, ${jsonb(sql, input.metadata ?? {})})
            returning ${cols()}`;
          return row!;
        },
      ),

    /** The app's branch, or null. */
    get: (tenantId: string, appId: string, id: string): Promise<Branch | null> =>
      guard(ctx, () => get(tenantId, appId, id)),

    /** The app's branch with this code, or null. */
    getByCode: mapErrors(ctx, async (tenantId: string, appId: string, code: string): Promise<Branch | null> => {
      if (!textKeys(tenantId, appId, code)) return null;
      const [row] = await sql<Branch[]>`
        select ${cols()} from tenancy.branches where tenant_id = ${tenantId} and app_id = ${appId} and code = ${code}`;
      return row ?? null;
    }),

    /** The app's branches by code, optionally of one type or status. */
    list,

    /** The app's branches of one type ('store', 'warehouse', ...). */
    listByType: (tenantId: string, appId: string, type: string, paging?: Paging): Promise<Branch[]> =>
      guard(ctx, () => list(tenantId, appId, { ...optionsOf('branch', paging), type })),

    /** Changes the fields given (null clears address/contact); NotFoundError when missing, DuplicateError (code). */
    update: mapErrors(ctx, async (tenantId: string, appId: string, id: string, patch: BranchPatch): Promise<Branch> => {
      const set = setList(sql, 'branch', patch, PATCH_COLUMNS, JSON_FIELDS);
      if (!textKeys(tenantId, appId, id)) throw new NotFoundError('branch', key(tenantId, appId, id));
      const [row] = set
        ? await sql<Branch[]>`
            update tenancy.branches set ${set}
             where tenant_id = ${tenantId} and app_id = ${appId} and id = ${id}
            returning ${cols()}`
        : [await get(tenantId, appId, id)];
      if (!row) throw new NotFoundError('branch', key(tenantId, appId, id));
      return row;
    }),

    /** Deletes the branch; NotFoundError when missing. */
    delete: mapErrors(ctx, async (tenantId: string, appId: string, id: string): Promise<void> => {
      if (!textKeys(tenantId, appId, id)) throw new NotFoundError('branch', key(tenantId, appId, id));
      const rows = await sql`
        delete from tenancy.branches where tenant_id = ${tenantId} and app_id = ${appId} and id = ${id} returning id`;
      if (rows.length === 0) throw new NotFoundError('branch', key(tenantId, appId, id));
    }),

    /** Whether the app has this branch. */
    exists: mapErrors(
      ctx,
      async (tenantId: string, appId: string, id: string): Promise<boolean> =>
        (await get(tenantId, appId, id)) !== null,
    ),
  };
}

export type BranchesStore = ReturnType<typeof createBranchesStore>;
