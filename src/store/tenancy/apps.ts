/**
 * Apps (tenancy.apps): a tenant's applications. Every method takes the tenant id: an app of
 * tenant A is invisible through tenant B.
 */
import { NotFoundError } from '../../errors.js';
import { type ErrorContext, guard, mapErrors } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import { type App, type AppPatch, type AppStatus, type NewApp, type Paging, jsonb, setList } from './types.js';
import { pageOf } from '../paging.js';
import { optionalObject, optionalText, optionsOf, plainObject, requireText, textKeys, shown } from '../validate.js';

const ctx: ErrorContext = {
  entity: 'app',
  uniqueFields: { apps_pkey: 'id', apps_name_key: 'name' },
};

const PATCH_COLUMNS = { name: 'name', type: 'type', status: 'status', config: 'config', metadata: 'metadata' };
const JSON_FIELDS = ['config', 'metadata'];

export interface AppListOptions extends Paging {
  type?: string;
  status?: AppStatus;
}

/** The apps store on `sql` (a pool or a transaction). */
export function createAppsStore(sql: Queryable) {
  const cols = () => sql`
    tenant_id as "tenantId", id, name, type, status, config, metadata,
    created_at as "createdAt", updated_at as "updatedAt"`;

  async function get(tenantId: string, id: string): Promise<App | null> {
    if (!textKeys(tenantId, id)) return null;
    const [row] = await sql<App[]>`select ${cols()} from tenancy.apps where tenant_id = ${tenantId} and id = ${id}`;
    return row ?? null;
  }

  function list(tenantId: string, listOptions?: AppListOptions): Promise<App[]> {
    return guard(ctx, async () => {
      const options = optionsOf('app', listOptions);
      optionalText('app', { type: options.type, status: options.status });
      const { limit, offset } = pageOf(options);
      if (!textKeys(tenantId)) return [];
      return sql<App[]>`
      select ${cols()} from tenancy.apps
       where tenant_id = ${tenantId}
         and (${options.type ?? null}::text is null or type = ${options.type ?? null})
         and (${options.status ?? null}::text is null or status = ${options.status ?? null})
       order by created_at, id
       limit ${limit} offset ${offset}`;
    });
  }

  return {
    /** Creates an app; DuplicateError on `id` or `name` (per tenant), ForeignKeyError for an unknown tenant. */
    create: (input: NewApp): Promise<App> =>
      guard(
        { ...ctx, foreignKeys: { apps_tenant_id_fkey: `tenant ${shown(input?.tenantId)} does not exist` } },
        async () => {
          plainObject('app', input);
          requireText('app', { tenantId: input.tenantId, id: input.id, name: input.name, type: input.type });
          optionalText('app', { status: input.status });
          optionalObject('app', { config: input.config, metadata: input.metadata });
          const [row] = await sql<App[]>`
          insert into tenancy.apps (tenant_id, id, name, type, status, config, metadata)
          values (${input.tenantId}, ${input.id}, ${input.name}, ${input.type}, ${input.status ?? 'active'},
                  ${jsonb(sql, input.config ?? {})}, ${jsonb(sql, input.metadata ?? {})})
          returning ${cols()}`;
          return row!;
        },
      ),

    /** The tenant's app, or null. */
    get: (tenantId: string, id: string): Promise<App | null> => guard(ctx, () => get(tenantId, id)),

    /** The tenant's app with this name, or null. */
    getByName: mapErrors(ctx, async (tenantId: string, name: string): Promise<App | null> => {
      if (!textKeys(tenantId, name)) return null;
      const [row] = await sql<
        App[]
      >`select ${cols()} from tenancy.apps where tenant_id = ${tenantId} and name = ${name}`;
      return row ?? null;
    }),

    /** The tenant's apps, oldest first, optionally of one type or status. */
    list,

    /** The tenant's apps of one type ('web', 'mobile', ...). */
    listByType: (tenantId: string, type: string, paging?: Paging): Promise<App[]> =>
      guard(ctx, () => list(tenantId, { ...optionsOf('app', paging), type })),

    /** Changes the fields given; NotFoundError when missing, DuplicateError (name). */
    update: mapErrors(ctx, async (tenantId: string, id: string, patch: AppPatch): Promise<App> => {
      const set = setList(sql, 'app', patch, PATCH_COLUMNS, JSON_FIELDS);
      if (!textKeys(tenantId, id)) throw new NotFoundError('app', `${shown(tenantId)}/${shown(id)}`);
      const [row] = set
        ? await sql<
            App[]
          >`update tenancy.apps set ${set} where tenant_id = ${tenantId} and id = ${id} returning ${cols()}`
        : [await get(tenantId, id)];
      if (!row) throw new NotFoundError('app', `${shown(tenantId)}/${shown(id)}`);
      return row;
    }),

    /** Deletes the app with its branches, grants and keys; NotFoundError when missing. */
    delete: mapErrors(ctx, async (tenantId: string, id: string): Promise<void> => {
      if (!textKeys(tenantId, id)) throw new NotFoundError('app', `${shown(tenantId)}/${shown(id)}`);
      const rows = await sql`delete from tenancy.apps where tenant_id = ${tenantId} and id = ${id} returning id`;
      if (rows.length === 0) throw new NotFoundError('app', `${shown(tenantId)}/${shown(id)}`);
    }),

    /** Whether the tenant has this app. */
    exists: mapErrors(
      ctx,
      async (tenantId: string, id: string): Promise<boolean> => (await get(tenantId, id)) !== null,
    ),
  };
}

export type AppsStore = ReturnType<typeof createAppsStore>;
