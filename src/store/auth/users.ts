/**
 * Users (auth.users): identity rows, looked up by id or case-insensitive email, searched by
 * name and email. Deleting a user cascades to everything that is only theirs.
 */
import { NotFoundError, ValidationError } from '../../errors.js';
import { type ErrorContext, guard, mapErrors } from '../map-error.js';
import { optionalText, optionsOf, plainObject, shown, textKeys } from '../validate.js';
import type { Queryable } from '../queryable.js';
import { isUuid, type Page, type PageOptions, USER_PAGES, USER_COLUMNS, type User, type UserStatus } from './types.js';
import { pageOf } from '../paging.js';

const ctx: ErrorContext = { entity: 'user', uniqueFields: { users_email_key: 'email' } };

export interface NewUser {
  email: string;
  name?: string | null;
  status?: UserStatus;
}

export interface UserPatch {
  /** A new address clears emailVerifiedAt (unless only its letter case changes). */
  email?: string;
  name?: string | null;
  status?: UserStatus;
}

export interface UserListOptions extends PageOptions {
  /** Words or a fragment of the name or email (full-text and substring match). */
  search?: string;
  status?: UserStatus;
}

/** The result of getOrCreateByEmail: the user, and whether this call created it. */
export interface GetOrCreateResult {
  user: User;
  created: boolean;
}

/** Escapes LIKE's wildcards so a search for "a_b" means that text. */
const likeEscape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Builds the users store on `sql` (a pool or a transaction). */
export function createUsersStore(sql: Queryable) {
  const cols = sql.unsafe(USER_COLUMNS('u'));

  // Inserts a user and grants the built-in 'user' role in one statement; null when the email
  // is taken and `ifAbsent` is set.
  async function insert(input: NewUser, ifAbsent: boolean): Promise<User | null> {
    plainObject('user', input);
    if (typeof input.email !== 'string') throw new ValidationError('user: email is required', { field: 'email' });
    optionalText('user', { name: input.name, status: input.status });
    // The conflict target is the unique index's expression (migration 20261205000002).
    const conflict = ifAbsent ? sql`on conflict ((pgstore.casefold(email))) do nothing` : sql``;
    const [row] = await sql<User[]>`
      with u as (
        insert into auth.users (email, name, status)
        values (${input.email.trim()}, ${input.name ?? null}, ${input.status ?? 'active'})
        ${conflict}
        returning *
      ), granted as (
        insert into auth.user_roles (user_id, role_id)
        select u.id, r.id from u, auth.roles r where r.name = 'user'
      )
      select ${cols} from u`;
    return row ?? null;
  }

  async function byEmail(email: string): Promise<User | null> {
    if (!textKeys(email)) return null;
    const [row] = await sql<
      User[]
    >`select ${cols} from auth.users u where pgstore.casefold(u.email) = pgstore.casefold(${email.trim()})`;
    return row ?? null;
  }

  return {
    /** Creates a user (with the built-in 'user' role); a taken email is a DuplicateError on 'email'. */
    create: (input: NewUser): Promise<User> => guard(ctx, async () => (await insert(input, false))!),

    /** The user with this id, or null (also for a malformed id). */
    get: mapErrors(ctx, async (id: string): Promise<User | null> => {
      if (!isUuid(id)) return null;
      const [row] = await sql<User[]>`select ${cols} from auth.users u where u.id = ${id}`;
      return row ?? null;
    }),

    /** The user with this email, compared case-insensitively, or null. */
    getByEmail: (email: string): Promise<User | null> => guard(ctx, () => byEmail(email)),

    /**
     * The user with this email, created when absent. Atomic: concurrent calls for one address
     * make one user (insert ... on conflict do nothing waits for a competing insert to commit,
     * then the select in a new statement sees its row) and all return its id.
     */
    getOrCreateByEmail: mapErrors(
      ctx,
      async (email: string, defaults?: Omit<NewUser, 'email'>): Promise<GetOrCreateResult> => {
        if (typeof email !== 'string') throw new ValidationError('user: email is required', { field: 'email' });
        for (let attempt = 0; attempt < 5; attempt++) {
          const created = await insert({ ...optionsOf('user', defaults), email }, true);
          if (created) return { user: created, created: true };
          const existing = await byEmail(email);
          if (existing) return { user: existing, created: false };
          // The competing row was deleted between our two statements: try again.
        }
        throw new ValidationError(`user: ${email} is being created and deleted concurrently`, { field: 'email' });
      },
    ),

    /** Changes email, name or status; NotFoundError when the user does not exist. */
    update: mapErrors(ctx, async (id: string, patch: UserPatch): Promise<User> => {
      plainObject('user', patch, 'patch');
      optionalText('user', { email: patch.email, name: patch.name, status: patch.status });
      if (patch.email === null) throw new ValidationError('user: email is required', { field: 'email' });
      if (!isUuid(id)) throw new NotFoundError('user', shown(id));
      const email = patch.email === undefined ? null : patch.email.trim();
      // A new address is unverified: its timestamp is cleared and the email-verified role,
      // which markEmailVerified granted for the old address, goes with it.
      const [row] = await sql<User[]>`
        with changed as (
          update auth.users u set
            email = coalesce(${email}, u.email),
            name = ${'name' in patch ? sql`${patch.name ?? null}` : sql`u.name`},
            status = coalesce(${patch.status ?? null}, u.status),
            email_verified_at = case when pgstore.casefold(coalesce(${email}, u.email)) = pgstore.casefold(u.email) then u.email_verified_at end
          where u.id = ${id}
          returning ${cols}
        ), unverified as (
          delete from auth.user_roles ur
           using auth.roles r, changed c
           where r.id = ur.role_id and r.name = 'email-verified' and ur.user_id = c.id and c."emailVerifiedAt" is null
        )
        select * from changed`;
      if (!row) throw new NotFoundError('user', id);
      return row;
    }),

    /** Deletes a user and, by cascade, their credentials, logins, sessions, profile and roles. */
    delete: mapErrors(ctx, async (id: string): Promise<void> => {
      const rows = isUuid(id) ? await sql`delete from auth.users where id = ${id} returning 1` : [];
      if (rows.length === 0) throw new NotFoundError('user', shown(id));
    }),

    /**
     * A page of users in a stable order (creation order; with a search, best matches first).
     * The search matches whole words (full-text index) or any fragment of the name or email
     * (trigram indexes).
     */
    list: mapErrors(ctx, async (listOptions?: UserListOptions): Promise<Page<User>> => {
      const options = optionsOf('user', listOptions);
      optionalText('user', { search: options.search, status: options.status });
      const { limit, offset } = pageOf(options, USER_PAGES);
      const search = options.search?.trim() ? options.search.trim() : null;
      const status = options.status ?? null;
      // Folding leaves LIKE's escapes alone: '\\', '%' and '_' are no letters.
      const pattern = search ? `%${likeEscape(search)}%` : null;
      const filter = search
        ? sql`(u.search_vector @@ websearch_to_tsquery('simple', ${search})
               or pgstore.casefold(u.email) like pgstore.casefold(${pattern})
               or pgstore.casefold(u.name) like pgstore.casefold(${pattern}))`
        : sql`true`;
      const order = search
        ? sql`(pgstore.casefold(u.email) = pgstore.casefold(${search})) desc,
              ts_rank(u.search_vector, websearch_to_tsquery('simple', ${search})) desc, u.id`
        : sql`u.id`;
      const where = sql`where ${filter} and (${status}::text is null or u.status = ${status})`;
      const items = await sql<
        User[]
      >`select ${cols} from auth.users u ${where} order by ${order} limit ${limit} offset ${offset}`;
      const [count] = await sql<{ total: number }[]>`select count(*)::int as total from auth.users u ${where}`;
      return { items: [...items], total: count?.total ?? 0, limit, offset };
    }),

    /**
     * Records that the email address is verified (the first time counts) and grants the
     * built-in 'email-verified' role; NotFoundError when the user does not exist.
     */
    markEmailVerified: mapErrors(ctx, async (id: string): Promise<User> => {
      if (!isUuid(id)) throw new NotFoundError('user', shown(id));
      const [row] = await sql<User[]>`
        with u as (
          update auth.users set email_verified_at = coalesce(email_verified_at, now())
          where id = ${id} returning *
        ), granted as (
          insert into auth.user_roles (user_id, role_id)
          select u.id, r.id from u, auth.roles r where r.name = 'email-verified'
          on conflict do nothing
        )
        select ${cols} from u`;
      if (!row) throw new NotFoundError('user', id);
      return row;
    }),
  };
}

export type UsersStore = ReturnType<typeof createUsersStore>;
