/**
 * Roles (auth.roles, auth.user_roles): seed 004's RBAC. The built-in roles (user,
 * email-verified, trusted-contact, admin) come from the migration; more can be added.
 */
import { ForeignKeyError, NotFoundError, ValidationError } from '../../errors.js';
import { type ErrorContext, guard, mapErrors } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import {
  type AssignedRole,
  isUuid,
  type Page,
  type PageOptions,
  USER_PAGES,
  type Role,
  ROLE_COLUMNS,
  USER_COLUMNS,
  type User,
} from './types.js';
import { pageOf } from '../paging.js';
import { optionalText, optionsOf, requireText, textKeys, shown } from '../validate.js';

const ctx: ErrorContext = {
  entity: 'role',
  uniqueFields: { roles_name_key: 'name', user_roles_pkey: 'role' },
  foreignKeys: { user_roles_user_id_fkey: 'role: the user does not exist' },
};

/** Builds the roles store on `sql` (a pool or a transaction). */
export function createRolesStore(sql: Queryable) {
  const roleCols = sql.unsafe(ROLE_COLUMNS('r'));

  return {
    /** Every role, built-in first (in catalogue order). */
    list: (): Promise<Role[]> =>
      guard(ctx, async () => [...(await sql<Role[]>`select ${roleCols} from auth.roles r order by r.id`)]),

    /** The role with this name, or null. */
    get: mapErrors(ctx, async (name: string): Promise<Role | null> => {
      if (!textKeys(name)) return null;
      const [row] = await sql<Role[]>`select ${roleCols} from auth.roles r where r.name = ${name}`;
      return row ?? null;
    }),

    /** Adds a role to the catalogue; a taken name is a DuplicateError on 'name'. */
    create: mapErrors(ctx, async (name: string, description: string | null = null): Promise<Role> => {
      requireText('role', { name });
      optionalText('role', { description });
      const [row] = await sql<
        Role[]
      >`insert into auth.roles as r (name, description) values (${name}, ${description}) returning ${roleCols}`;
      return row!;
    }),

    /** Removes a role that is not built in (and every assignment of it); NotFoundError when missing. */
    delete: mapErrors(ctx, async (name: string): Promise<void> => {
      if (!textKeys(name)) throw new NotFoundError('role', shown(name));
      const [row] = await sql<{ builtIn: boolean; deleted: boolean }[]>`
        with target as (select id, built_in from auth.roles where name = ${name}),
             gone as (delete from auth.roles where id in (select id from target where not built_in) returning 1)
        select built_in as "builtIn", exists (select 1 from gone) as deleted from target`;
      if (!row) throw new NotFoundError('role', name);
      if (row.builtIn) throw new ValidationError(`role: ${name} is built in and cannot be deleted`, { field: 'name' });
    }),

    /**
     * Gives a user a role; idempotent. Returns true when newly assigned. NotFoundError for an
     * unknown role, ForeignKeyError for an unknown user.
     */
    assign: mapErrors(ctx, async (userId: string, roleName: string): Promise<boolean> => {
      if (!isUuid(userId))
        throw new ForeignKeyError(ctx.foreignKeys!.user_roles_user_id_fkey!, { constraint: 'user_roles_user_id_fkey' });
      if (!textKeys(roleName)) throw new NotFoundError('role', shown(roleName));
      const [row] = await sql<{ roleId: number | null; assigned: boolean }[]>`
        with r as (select id from auth.roles where name = ${roleName}),
             ins as (insert into auth.user_roles (user_id, role_id) select ${userId}, id from r on conflict do nothing returning 1)
        select (select id from r) as "roleId", exists (select 1 from ins) as assigned`;
      if (row?.roleId == null) throw new NotFoundError('role', roleName);
      return row.assigned;
    }),

    /** Takes a role away; NotFoundError when the user does not have it. */
    revoke: mapErrors(ctx, async (userId: string, roleName: string): Promise<void> => {
      const rows =
        isUuid(userId) && textKeys(roleName)
          ? await sql`
            delete from auth.user_roles ur using auth.roles r
            where ur.role_id = r.id and ur.user_id = ${userId} and r.name = ${roleName} returning 1`
          : [];
      if (rows.length === 0) throw new NotFoundError('role assignment', `${shown(roleName)} of user ${shown(userId)}`);
    }),

    /** Whether the user has the role (false for an unknown user or role). */
    hasRole: mapErrors(ctx, async (userId: string, roleName: string): Promise<boolean> => {
      if (!isUuid(userId) || !textKeys(roleName)) return false;
      const [row] = await sql<{ has: boolean }[]>`
        select exists (
          select 1 from auth.user_roles ur join auth.roles r on r.id = ur.role_id
          where ur.user_id = ${userId} and r.name = ${roleName}) as has`;
      return row?.has ?? false;
    }),

    /** The roles of a user, in catalogue order, with when each was granted. */
    listForUser: mapErrors(ctx, async (userId: string): Promise<AssignedRole[]> => {
      if (!isUuid(userId)) return [];
      const rows = await sql<AssignedRole[]>`
        select ${roleCols}, ur.granted_at as "grantedAt"
        from auth.user_roles ur join auth.roles r on r.id = ur.role_id
        where ur.user_id = ${userId} order by r.id`;
      return [...rows];
    }),

    /** A page of the users holding a role, in creation order; NotFoundError for an unknown role. */
    usersWithRole: mapErrors(ctx, async (roleName: string, options?: PageOptions): Promise<Page<User>> => {
      const { limit, offset } = pageOf(optionsOf('role', options), USER_PAGES);
      if (!textKeys(roleName)) throw new NotFoundError('role', shown(roleName));
      const [role] = await sql<{ id: number; total: number }[]>`
        select r.id, (select count(*)::int from auth.user_roles ur where ur.role_id = r.id) as total
        from auth.roles r where r.name = ${roleName}`;
      if (!role) throw new NotFoundError('role', roleName);
      const items = await sql<User[]>`
        select ${sql.unsafe(USER_COLUMNS('u'))}
        from auth.user_roles ur join auth.users u on u.id = ur.user_id
        where ur.role_id = ${role.id} order by u.id limit ${limit} offset ${offset}`;
      return { items: [...items], total: role.total, limit, offset };
    }),
  };
}

export type RolesStore = ReturnType<typeof createRolesStore>;
