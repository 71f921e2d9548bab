/**
 * Memberships (tenancy.memberships): which auth.users belong to which tenant, under which
 * username. Every row comes back joined with the user's email and name.
 */
import { NotFoundError } from '../../errors.js';
import { type ErrorContext, guard, mapErrors } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import {
  type Member,
  type MemberPatch,
  type MembershipStatus,
  type NewMember,
  type Paging,
  jsonb,
  setList,
} from './types.js';
import { pageOf } from '../paging.js';
import { isUuid } from '../auth/index.js';
import { optionalObject, optionalText, optionsOf, plainObject, requireText, textKeys, shown } from '../validate.js';
import { ValidationError } from '../../errors.js';

const ctx: ErrorContext = {
  entity: 'membership',
  uniqueFields: { memberships_pkey: 'userId', memberships_username_key: 'username' },
};

const PATCH_COLUMNS = { username: 'username', status: 'status', metadata: 'metadata' };

export interface MemberListOptions extends Paging {
  status?: MembershipStatus;
}

/** The memberships store on `sql` (a pool or a transaction). */
export function createMembershipsStore(sql: Queryable) {
  // Over `m` (a membership row) joined with `u` (its auth.users row).
  const cols = () => sql`
    m.tenant_id as "tenantId", m.user_id as "userId", m.username, m.status, m.metadata,
    u.email, u.name, m.created_at as "createdAt", m.updated_at as "updatedAt"`;
  const key = (tenantId: string, userId: string) => `${shown(tenantId)}/${shown(userId)}`;

  async function get(tenantId: string, userId: string): Promise<Member | null> {
    if (!textKeys(tenantId) || !isUuid(userId)) return null;
    const [row] = await sql<Member[]>`
      select ${cols()} from tenancy.memberships m join auth.users u on u.id = m.user_id
       where m.tenant_id = ${tenantId} and m.user_id = ${userId}`;
    return row ?? null;
  }

  return {
    /** Makes a user a member; DuplicateError on `userId` (a member already) or `username`, ForeignKeyError for an unknown tenant or user. */
    add: (input: NewMember): Promise<Member> =>
      guard(
        {
          ...ctx,
          foreignKeys: {
            memberships_tenant_id_fkey: `tenant ${shown(input?.tenantId)} does not exist`,
            memberships_user_id_fkey: `user ${shown(input?.userId)} does not exist`,
          },
        },
        async () => {
          plainObject('membership', input);
          requireText('membership', { tenantId: input.tenantId, userId: input.userId, username: input.username });
          if (!isUuid(input.userId))
            throw new ValidationError(`membership: userId must be a user's id (a UUID), not ${input.userId}`, {
              field: 'userId',
            });
          optionalText('membership', { status: input.status });
          optionalObject('membership', { metadata: input.metadata });
          const [row] = await sql<Member[]>`
            with m as (
              insert into tenancy.memberships (tenant_id, user_id, username, status, metadata)
              values (${input.tenantId}, ${input.userId}, ${input.username}, ${input.status ?? 'active'},
                      ${jsonb(sql, input.metadata ?? {})})
              returning *)
            select ${cols()} from m join auth.users u on u.id = m.user_id`;
          return row!;
        },
      ),

    /** The user's membership of the tenant, or null. */
    get: (tenantId: string, userId: string): Promise<Member | null> => guard(ctx, () => get(tenantId, userId)),

    /** The member with this username (case-insensitive), or null. */
    getByUsername: mapErrors(ctx, async (tenantId: string, username: string): Promise<Member | null> => {
      if (!textKeys(tenantId, username)) return null;
      const [row] = await sql<Member[]>`
        select ${cols()} from tenancy.memberships m join auth.users u on u.id = m.user_id
         where m.tenant_id = ${tenantId} and pgstore.casefold(m.username) = pgstore.casefold(${username})`;
      return row ?? null;
    }),

    /** The member whose user has this email (case-insensitive), or null. */
    getByEmail: mapErrors(ctx, async (tenantId: string, email: string): Promise<Member | null> => {
      if (!textKeys(tenantId, email)) return null;
      const [row] = await sql<Member[]>`
        select ${cols()} from auth.users u join tenancy.memberships m on m.user_id = u.id
         where pgstore.casefold(u.email) = pgstore.casefold(${email.trim()}) and m.tenant_id = ${tenantId}`;
      return row ?? null;
    }),

    /** The tenant's members by username, optionally of one status. */
    list: (tenantId: string, listOptions?: MemberListOptions): Promise<Member[]> =>
      guard(ctx, async () => {
        const options = optionsOf('membership', listOptions);
        optionalText('membership', { status: options.status });
        const { limit, offset } = pageOf(options);
        if (!textKeys(tenantId)) return [];
        return sql<Member[]>`
          select ${cols()} from tenancy.memberships m join auth.users u on u.id = m.user_id
           where m.tenant_id = ${tenantId}
             and (${options.status ?? null}::text is null or m.status = ${options.status ?? null})
           order by pgstore.casefold(m.username), m.username
           limit ${limit} offset ${offset}`;
      }),

    /** Members with access to the app: an active grant and an active membership (as userApps.hasAccess). */
    listByApp: (tenantId: string, appId: string, paging?: Paging): Promise<Member[]> =>
      guard(ctx, async () => {
        const { limit, offset } = pageOf(optionsOf('membership', paging));
        if (!textKeys(tenantId, appId)) return [];
        return sql<Member[]>`
          select ${cols()}
            from tenancy.user_apps ua
            join tenancy.memberships m on m.tenant_id = ua.tenant_id and m.user_id = ua.user_id
            join auth.users u on u.id = m.user_id
           where ua.tenant_id = ${tenantId} and ua.app_id = ${appId}
             and ua.status = 'active' and m.status = 'active'
           order by pgstore.casefold(m.username), m.username
           limit ${limit} offset ${offset}`;
      }),

    /** Changes username, status or metadata; NotFoundError when missing, DuplicateError (username). */
    update: mapErrors(ctx, async (tenantId: string, userId: string, patch: MemberPatch): Promise<Member> => {
      const set = setList(sql, 'membership', patch, PATCH_COLUMNS, ['metadata']);
      if (!textKeys(tenantId) || !isUuid(userId)) throw new NotFoundError('membership', key(tenantId, userId));
      const [row] = set
        ? await sql<Member[]>`
            with m as (
              update tenancy.memberships set ${set}
               where tenant_id = ${tenantId} and user_id = ${userId}
              returning *)
            select ${cols()} from m join auth.users u on u.id = m.user_id`
        : [await get(tenantId, userId)];
      if (!row) throw new NotFoundError('membership', key(tenantId, userId));
      return row;
    }),

    /** Removes the user from the tenant, with their app grants and keys; NotFoundError when missing. */
    remove: mapErrors(ctx, async (tenantId: string, userId: string): Promise<void> => {
      if (!textKeys(tenantId) || !isUuid(userId)) throw new NotFoundError('membership', key(tenantId, userId));
      const rows = await sql`
        delete from tenancy.memberships where tenant_id = ${tenantId} and user_id = ${userId} returning user_id`;
      if (rows.length === 0) throw new NotFoundError('membership', key(tenantId, userId));
    }),
  };
}

export type MembershipsStore = ReturnType<typeof createMembershipsStore>;
