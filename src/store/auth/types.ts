/**
 * Row interfaces of the auth stores (camelCase views of the auth schema) and the column lists
 * that produce them. No view carries a password hash or a session token hash.
 */
import { ValidationError } from '../../errors.js';

export type UserStatus = 'active' | 'suspended' | 'disabled';

/** A person (auth.users). */
export interface User {
  id: string;
  email: string;
  name: string | null;
  status: UserStatus;
  emailVerifiedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a password credential looks like from outside: never the hash itself. */
export interface CredentialInfo {
  userId: string;
  /** The PHC algorithm id, e.g. "scrypt". */
  algorithm: string;
  /** True when the stored parameters differ from the current ones (rehashed on next sign-in). */
  needsRehash: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A signed-in session (auth.sessions), without its token hash. */
export interface Session {
  id: string;
  userId: string;
  userAgent: string | null;
  ipAddress: string | null;
  expiresAt: Date;
  lastSeenAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An OAuth/OIDC identity linked to a user (auth.user_external_logins). */
export interface ExternalLogin {
  id: string;
  userId: string;
  provider: string;
  subject: string;
  email: string | null;
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A single-use expiring value (auth.nonces). */
export interface Nonce {
  value: string;
  expiresAt: Date;
  createdAt: Date;
}

/** Display data of a user (auth.user_profiles). */
export interface Profile {
  userId: string;
  displayName: string | null;
  avatarUrl: string | null;
  bio: string | null;
  locale: string | null;
  timeZone: string | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** Settings of a user as one JSON object (auth.user_preferences). */
export interface Preferences {
  userId: string;
  preferences: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** A role of the catalogue (auth.roles). */
export interface Role {
  id: number;
  name: string;
  description: string | null;
  builtIn: boolean;
  createdAt: Date;
}

/** A role held by a user, with when it was granted. */
export interface AssignedRole extends Role {
  grantedAt: Date;
}

/** One page of a listing. */
export interface Page<T> {
  items: T[];
  /** All rows matching the filter, not only this page. */
  total: number;
  limit: number;
  offset: number;
}

export type { PageOptions } from '../paging.js';

/** Lists of users: 50 rows unless asked, at most 1,000 a page. */
export const USER_PAGES = { defaultLimit: 50, maxLimit: 1000 };

// Column lists (aliased to camelCase). Interpolated with sql.unsafe: constants only, never input.
export const USER_COLUMNS = (t = 'u') =>
  `${t}.id, ${t}.email, ${t}.name, ${t}.status, ${t}.email_verified_at as "emailVerifiedAt", ${t}.created_at as "createdAt", ${t}.updated_at as "updatedAt"`;

export const SESSION_COLUMNS = `id, user_id as "userId", user_agent as "userAgent", host(ip_address) as "ipAddress",
  expires_at as "expiresAt", last_seen_at as "lastSeenAt", created_at as "createdAt", updated_at as "updatedAt"`;

export const EXTERNAL_LOGIN_COLUMNS = `id, user_id as "userId", provider, subject, email, last_login_at as "lastLoginAt",
  created_at as "createdAt", updated_at as "updatedAt"`;

export const ROLE_COLUMNS = (t = 'r') =>
  `${t}.id, ${t}.name, ${t}.description, ${t}.built_in as "builtIn", ${t}.created_at as "createdAt"`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a well-formed UUID string (a malformed id is "not found", never a driver error). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** A positive number of seconds, or a ValidationError naming `entity`'s ttlSeconds. */
export function checkTtl(entity: string, ttlSeconds: number): number {
  if (typeof ttlSeconds !== 'number' || !Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new ValidationError(`${entity}: ttlSeconds must be a positive number of seconds`, { field: 'ttlSeconds' });
  }
  return ttlSeconds;
}
