/**
 * External logins (auth.user_external_logins): OAuth/OIDC identities linked to users. One
 * identity (provider, subject) belongs to one user; a user may link many.
 */
import { DuplicateError, ForeignKeyError, NotFoundError } from '../../errors.js';
import { type ErrorContext, mapErrors } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import { EXTERNAL_LOGIN_COLUMNS, type ExternalLogin, isUuid, USER_COLUMNS, type User } from './types.js';
import { optionalText, plainObject, requireText, textKeys, shown } from '../validate.js';

const ctx: ErrorContext = {
  entity: 'external login',
  uniqueFields: { user_external_logins_provider_subject_key: 'provider and subject' },
  foreignKeys: { user_external_logins_user_id_fkey: 'external login: the user does not exist' },
};

export interface NewExternalLogin {
  userId: string;
  provider: string;
  subject: string;
  /** The email the provider reported, if any. */
  email?: string | null;
}

/** Builds the external logins store on `sql` (a pool or a transaction). */
export function createExternalLoginsStore(sql: Queryable) {
  const cols = sql.unsafe(EXTERNAL_LOGIN_COLUMNS);

  return {
    /**
     * Links an identity to a user. Linking it again to the same user is idempotent (the email
     * is refreshed); an identity already linked to another user is a DuplicateError.
     */
    link: mapErrors(ctx, async (input: NewExternalLogin): Promise<ExternalLogin> => {
      plainObject('external login', input);
      requireText('external login', { userId: input.userId, provider: input.provider, subject: input.subject });
      optionalText('external login', { email: input.email });
      if (!isUuid(input.userId))
        throw new ForeignKeyError(ctx.foreignKeys!.user_external_logins_user_id_fkey!, {
          constraint: 'user_external_logins_user_id_fkey',
        });
      // The conflict arm only fires for the same user; for another user it returns no row.
      const [row] = await sql<ExternalLogin[]>`
        insert into auth.user_external_logins as l (user_id, provider, subject, email)
        values (${input.userId}, ${input.provider}, ${input.subject}, ${input.email ?? null})
        on conflict (provider, subject) do update set email = coalesce(excluded.email, l.email)
          where l.user_id = excluded.user_id
        returning ${cols}`;
      if (!row)
        throw new DuplicateError('external login', 'provider and subject', {
          hint: 'This identity is linked to another user: unlink it there first.',
        });
      return row;
    }),

    /** Removes a link; NotFoundError when the identity is not linked. */
    unlink: mapErrors(ctx, async (provider: string, subject: string): Promise<void> => {
      const rows = !textKeys(provider, subject)
        ? []
        : await sql`delete from auth.user_external_logins where provider = ${provider} and subject = ${subject} returning 1`;
      if (rows.length === 0) throw new NotFoundError('external login', `${shown(provider)}:${shown(subject)}`);
    }),

    /** The link of an identity, or null. */
    get: mapErrors(ctx, async (provider: string, subject: string): Promise<ExternalLogin | null> => {
      if (!textKeys(provider, subject)) return null;
      const [row] = await sql<
        ExternalLogin[]
      >`select ${cols} from auth.user_external_logins where provider = ${provider} and subject = ${subject}`;
      return row ?? null;
    }),

    /** The user an identity is linked to, or null (sign-in with a provider). */
    getUserByProviderAndSubject: mapErrors(ctx, async (provider: string, subject: string): Promise<User | null> => {
      if (!textKeys(provider, subject)) return null;
      const [row] = await sql<User[]>`
        select ${sql.unsafe(USER_COLUMNS('u'))}
        from auth.user_external_logins l join auth.users u on u.id = l.user_id
        where l.provider = ${provider} and l.subject = ${subject}`;
      return row ?? null;
    }),

    /** Records a sign-in through an identity (last_login_at); NotFoundError when not linked. */
    recordLogin: mapErrors(ctx, async (provider: string, subject: string): Promise<ExternalLogin> => {
      if (!textKeys(provider, subject))
        throw new NotFoundError('external login', `${shown(provider)}:${shown(subject)}`);
      const [row] = await sql<ExternalLogin[]>`
        update auth.user_external_logins set last_login_at = now()
        where provider = ${provider} and subject = ${subject} returning ${cols}`;
      if (!row) throw new NotFoundError('external login', `${shown(provider)}:${shown(subject)}`);
      return row;
    }),

    /** A user's linked identities, oldest first. */
    listForUser: mapErrors(ctx, async (userId: string): Promise<ExternalLogin[]> => {
      if (!isUuid(userId)) return [];
      return [
        ...(await sql<
          ExternalLogin[]
        >`select ${cols} from auth.user_external_logins where user_id = ${userId} order by id`),
      ];
    }),
  };
}

export type ExternalLoginsStore = ReturnType<typeof createExternalLoginsStore>;
