/**
 * Sessions (auth.sessions). `create` returns an opaque 256-bit token once; only its SHA-256
 * is stored, so a dump of the table cannot be replayed. Lookups by token never fail on bad
 * input: a missing, malformed or expired token is simply null.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ForeignKeyError, NotFoundError } from '../../errors.js';
import { type ErrorContext, mapErrors } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import { checkTtl, isUuid, SESSION_COLUMNS, type Session } from './types.js';
import { optionalText, optionsOf, plainObject, requireText, shown } from '../validate.js';

const ctx: ErrorContext = {
  entity: 'session',
  uniqueFields: { sessions_token_hash_key: 'token' },
  foreignKeys: { sessions_user_id_fkey: 'session: the user does not exist' },
};

/** Default lifetime of a session: 14 days. */
export const DEFAULT_SESSION_TTL_SECONDS = 14 * 24 * 3600;

export interface NewSession {
  userId: string;
  /** Lifetime in seconds (default 14 days). */
  ttlSeconds?: number;
  userAgent?: string | null;
  /** The client's IP address (IPv4 or IPv6). */
  ipAddress?: string | null;
}

/** A new session and its bearer token; the token is not stored and cannot be read again. */
export interface CreatedSession {
  token: string;
  session: Session;
}

/** The SHA-256 of a token, or null for input that cannot be a token. */
function tokenHash(token: unknown): Buffer | null {
  if (typeof token !== 'string' || token.length < 16 || token.length > 512) return null;
  return createHash('sha256').update(token, 'utf8').digest();
}

// Never put a token in an error message: "session (token) not found".
const notFound = () =>
  new NotFoundError('session', '(token)', { hint: 'The session is unknown or expired: sign in again.' });

/** Builds the sessions store on `sql` (a pool or a transaction). */
export function createSessionsStore(sql: Queryable) {
  const cols = sql.unsafe(SESSION_COLUMNS);

  return {
    /** Starts a session; returns the token (base64url, 256 random bits) once. */
    create: mapErrors(ctx, async (input: NewSession): Promise<CreatedSession> => {
      plainObject('session', input);
      requireText('session', { userId: input.userId });
      optionalText('session', { userAgent: input.userAgent, ipAddress: input.ipAddress });
      const ttl = checkTtl('session', input.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS);
      if (!isUuid(input.userId))
        throw new ForeignKeyError('session: the user does not exist', { constraint: 'sessions_user_id_fkey' });
      const token = randomBytes(32).toString('base64url');
      const [row] = await sql<Session[]>`
        insert into auth.sessions (token_hash, user_id, user_agent, ip_address, expires_at, last_seen_at)
        values (${tokenHash(token)!}, ${input.userId}, ${input.userAgent ?? null}, ${input.ipAddress ?? null},
                now() + make_interval(secs => ${ttl}), now())
        returning ${cols}`;
      return { token, session: row! };
    }),

    /** The live session of a token, or null when it is missing, malformed or expired. */
    get: mapErrors(ctx, async (token: string): Promise<Session | null> => {
      const hash = tokenHash(token);
      if (!hash) return null;
      const [row] = await sql<
        Session[]
      >`select ${cols} from auth.sessions where token_hash = ${hash} and expires_at > now()`;
      return row ?? null;
    }),

    /** A session by its id (not its token), expired or not; null when missing or malformed. */
    getById: mapErrors(ctx, async (id: string): Promise<Session | null> => {
      if (!isUuid(id)) return null;
      const [row] = await sql<Session[]>`select ${cols} from auth.sessions where id = ${id}`;
      return row ?? null;
    }),

    /** The live sessions of a user, newest first. */
    listForUser: mapErrors(ctx, async (userId: string): Promise<Session[]> => {
      if (!isUuid(userId)) return [];
      const rows = await sql<Session[]>`
        select ${cols} from auth.sessions where user_id = ${userId} and expires_at > now() order by id desc`;
      return [...rows];
    }),

    /**
     * Pushes a live session's expiry to at least now + ttl (never shortens it) and records
     * activity; NotFoundError when the token is unknown or expired.
     */
    extend: mapErrors(
      ctx,
      async (token: string, ttlSeconds: number = DEFAULT_SESSION_TTL_SECONDS): Promise<Session> => {
        const ttl = checkTtl('session', ttlSeconds);
        const hash = tokenHash(token);
        if (!hash) throw notFound();
        const [row] = await sql<Session[]>`
        update auth.sessions
        set expires_at = greatest(expires_at, now() + make_interval(secs => ${ttl})), last_seen_at = now()
        where token_hash = ${hash} and expires_at > now()
        returning ${cols}`;
        if (!row) throw notFound();
        return row;
      },
    ),

    /** Ends the session of a token (sign-out); NotFoundError when there is none. */
    delete: mapErrors(ctx, async (token: string): Promise<void> => {
      const hash = tokenHash(token);
      const rows = hash ? await sql`delete from auth.sessions where token_hash = ${hash} returning 1` : [];
      if (rows.length === 0) throw notFound();
    }),

    /** Ends a session by its id; NotFoundError when there is none. */
    deleteById: mapErrors(ctx, async (id: string): Promise<void> => {
      const rows = isUuid(id) ? await sql`delete from auth.sessions where id = ${id} returning 1` : [];
      if (rows.length === 0) throw new NotFoundError('session', shown(id));
    }),

    /** Ends every session of a user (optionally keeping one); returns how many ended. */
    deleteForUser: mapErrors(ctx, async (userId: string, options?: { exceptId?: string }): Promise<number> => {
      const { exceptId } = optionsOf('session', options);
      if (!isUuid(userId)) return 0;
      const except = isUuid(exceptId) ? exceptId : null;
      const rows = await sql`
        delete from auth.sessions where user_id = ${userId} and (${except}::uuid is null or id <> ${except}::uuid) returning 1`;
      return rows.length;
    }),

    /** Deletes expired sessions; returns how many. */
    cleanupExpired: mapErrors(ctx, async (): Promise<number> => {
      const [row] = await sql<{ n: number }[]>`
        with gone as (delete from auth.sessions where expires_at <= now() returning 1) select count(*)::int as n from gone`;
      return row?.n ?? 0;
    }),
  };
}

export type SessionsStore = ReturnType<typeof createSessionsStore>;
