/**
 * App access (tenancy.user_apps): which member may use which app. A grant is an upsert to
 * 'active' (idempotent; it reactivates a revoked grant), a revoke an update to 'revoked'.
 */
import { ForeignKeyError, NotFoundError } from '../../errors.js';
import { type ErrorContext, guard, mapErrors } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import type { UserApp } from './types.js';
import { isUuid } from '../auth/index.js';
import { optionsOf, requireText, textKeys, shown } from '../validate.js';

const ctx: ErrorContext = { entity: 'app access' };

export interface UserAppListOptions {
  /** Also revoked grants (default false). */
  includeRevoked?: boolean;
}

/** The app access store on `sql` (a pool or a transaction). */
export function createUserAppsStore(sql: Queryable) {
  const cols = () => sql`
    tenant_id as "tenantId", app_id as "appId", user_id as "userId", status,
    granted_at as "grantedAt", revoked_at as "revokedAt"`;
  const key = (tenantId: string, appId: string, userId: string) =>
    `${shown(tenantId)}/${shown(appId)}/${shown(userId)}`;

  return {
    /**
     * Lets the member use the app. Granting an active grant changes nothing; granting a revoked
     * one reactivates it (new grantedAt). ForeignKeyError for an unknown app or a non-member.
     */
    grant: (tenantId: string, appId: string, userId: string): Promise<UserApp> =>
      guard(
        {
          ...ctx,
          foreignKeys: {
            user_apps_tenant_id_app_id_fkey: `app ${shown(tenantId)}/${shown(appId)} does not exist`,
            user_apps_tenant_id_user_id_fkey: `user ${shown(userId)} is not a member of tenant ${shown(tenantId)}`,
          },
        },
        async () => {
          requireText('app access', { tenantId, appId, userId });
          // A userId that is no user's id names no member: the same answer as an unknown user.
          if (!isUuid(userId))
            throw new ForeignKeyError(`user ${shown(userId)} is not a member of tenant ${shown(tenantId)}`, {
              constraint: 'user_apps_tenant_id_user_id_fkey',
            });
          const [row] = await sql<UserApp[]>`
            insert into tenancy.user_apps (tenant_id, app_id, user_id)
            values (${tenantId}, ${appId}, ${userId})
            on conflict (tenant_id, app_id, user_id) do update
               set status = 'active',
                   revoked_at = null,
                   granted_at = case when tenancy.user_apps.status = 'revoked' then now()
                                     else tenancy.user_apps.granted_at end
            returning ${cols()}`;
          return row!;
        },
      ),

    /** Withdraws the grant (a revoked grant is returned unchanged); NotFoundError when there is none. */
    revoke: mapErrors(ctx, async (tenantId: string, appId: string, userId: string): Promise<UserApp> => {
      if (!textKeys(tenantId, appId) || !isUuid(userId))
        throw new NotFoundError('app access', key(tenantId, appId, userId));
      const [row] = await sql<UserApp[]>`
        update tenancy.user_apps set status = 'revoked', revoked_at = now()
         where tenant_id = ${tenantId} and app_id = ${appId} and user_id = ${userId} and status = 'active'
        returning ${cols()}`;
      if (row) return row;
      const [existing] = await sql<UserApp[]>`
        select ${cols()} from tenancy.user_apps
         where tenant_id = ${tenantId} and app_id = ${appId} and user_id = ${userId}`;
      if (!existing) throw new NotFoundError('app access', key(tenantId, appId, userId));
      return existing;
    }),

    /** Whether the user may use the app: an active grant and an active membership. */
    hasAccess: mapErrors(ctx, async (tenantId: string, appId: string, userId: string): Promise<boolean> => {
      if (!textKeys(tenantId, appId) || !isUuid(userId)) return false;
      const [row] = await sql<{ exists: boolean }[]>`
        select exists (
          select 1 from tenancy.user_apps ua
            join tenancy.memberships m on m.tenant_id = ua.tenant_id and m.user_id = ua.user_id
           where ua.tenant_id = ${tenantId} and ua.app_id = ${appId} and ua.user_id = ${userId}
             and ua.status = 'active' and m.status = 'active') as exists`;
      return row!.exists;
    }),

    /** The member's grants, by app id. */
    listUserApps: (tenantId: string, userId: string, options?: UserAppListOptions): Promise<UserApp[]> =>
      guard(ctx, async () => {
        const includeRevoked = optionsOf('app access', options).includeRevoked === true;
        if (!textKeys(tenantId) || !isUuid(userId)) return [];
        return sql<UserApp[]>`
          select ${cols()} from tenancy.user_apps
           where tenant_id = ${tenantId} and user_id = ${userId}
             and (${includeRevoked} or status = 'active')
           order by app_id`;
      }),

    /** The app's grants, oldest first (memberships.listByApp gives the members themselves). */
    listAppUsers: (tenantId: string, appId: string, options?: UserAppListOptions): Promise<UserApp[]> =>
      guard(ctx, async () => {
        const includeRevoked = optionsOf('app access', options).includeRevoked === true;
        if (!textKeys(tenantId, appId)) return [];
        return sql<UserApp[]>`
          select ${cols()} from tenancy.user_apps
           where tenant_id = ${tenantId} and app_id = ${appId}
             and (${includeRevoked} or status = 'active')
           order by granted_at, user_id`;
      }),
  };
}

export type UserAppsStore = ReturnType<typeof createUserAppsStore>;
