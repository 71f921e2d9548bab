/**
 * Rows and inputs of the tenancy stores (tenants, apps, branches, memberships, user apps, API
 * keys), in camelCase, plus the one helper they share to build `update ... set` lists.
 */
import type { JSONValue } from 'postgres';
import type { Queryable } from '../queryable.js';
import { optionalObject, optionalText, plainObject } from '../validate.js';

/** A jsonb column: always an object (the schema checks it). */
export type JsonObject = Record<string, unknown>;

/** Paging of tenancy lists (no limit when absent). */
export type { PageOptions as Paging } from '../paging.js';

// ---- tenants

export type TenantStatus = 'active' | 'suspended' | 'disabled';

export interface Tenant {
  id: string;
  name: string;
  domain: string | null;
  status: TenantStatus;
  settings: JsonObject;
  metadata: JsonObject;
  /** Set by softDelete, cleared by restore. */
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewTenant {
  /** Lower-case letters, digits, '_' and '-'; starts with a letter or digit; at most 63. */
  id: string;
  name: string;
  domain?: string | null;
  status?: TenantStatus;
  settings?: JsonObject;
  metadata?: JsonObject;
}

export type TenantPatch = Partial<Omit<NewTenant, 'id'>>;

// ---- apps

export type AppStatus = 'active' | 'disabled';

export interface App {
  tenantId: string;
  id: string;
  name: string;
  /** Free-form kind: 'web', 'mobile', 'api', 'service'... */
  type: string;
  status: AppStatus;
  config: JsonObject;
  metadata: JsonObject;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewApp {
  tenantId: string;
  id: string;
  name: string;
  type: string;
  status?: AppStatus;
  config?: JsonObject;
  metadata?: JsonObject;
}

export type AppPatch = Partial<Omit<NewApp, 'tenantId' | 'id'>>;

// ---- branches

export type BranchStatus = 'active' | 'disabled';

export interface Branch {
  tenantId: string;
  appId: string;
  id: string;
  /** Unique per app. */
  code: string;
  name: string;
  type: string;
  status: BranchStatus;
  address: JsonObject | null;
  contact: JsonObject | null;
  settings: JsonObject;
  metadata: JsonObject;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewBranch {
  tenantId: string;
  appId: string;
  id: string;
  code: string;
  name: string;
  type: string;
  status?: BranchStatus;
  address?: JsonObject | null;
  contact?: JsonObject | null;
  settings?: JsonObject;
  metadata?: JsonObject;
}

export type BranchPatch = Partial<Omit<NewBranch, 'tenantId' | 'appId' | 'id'>>;

// ---- memberships

export type MembershipStatus = 'active' | 'suspended' | 'disabled';

/** A user's membership of a tenant, with the user's email and name (from auth.users). */
export interface Member {
  tenantId: string;
  userId: string;
  /** Unique per tenant, case-insensitively. */
  username: string;
  status: MembershipStatus;
  metadata: JsonObject;
  email: string;
  name: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewMember {
  tenantId: string;
  userId: string;
  username: string;
  status?: MembershipStatus;
  metadata?: JsonObject;
}

export type MemberPatch = Partial<Pick<NewMember, 'username' | 'status' | 'metadata'>>;

// ---- user apps

export type UserAppStatus = 'active' | 'revoked';

/** A member's access to an app. */
export interface UserApp {
  tenantId: string;
  appId: string;
  userId: string;
  status: UserAppStatus;
  grantedAt: Date;
  revokedAt: Date | null;
}

// ---- app keys

export type KeyEnvironment = 'live' | 'test';
/** Derived: 'revoked' wins over 'expired'. */
export type AppKeyStatus = 'active' | 'expired' | 'revoked';

/** An API key as stores show it: never the secret, never its hash. */
export interface AppKey {
  /** Internal id. */
  id: string;
  tenantId: string;
  appId: string;
  /** Public identifier: shown in lists, used by getByKeyId, revoke, rotate and delete. */
  keyId: string;
  prefix: string;
  name: string | null;
  environment: KeyEnvironment;
  scopes: string[];
  userId: string | null;
  metadata: JsonObject;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /** Internal id of the key this one replaced (rotate), if any. */
  rotatedFrom: string | null;
  status: AppKeyStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewAppKey {
  tenantId: string;
  appId: string;
  name?: string | null;
  environment?: KeyEnvironment;
  /** Start of the secret; default 'pk_live' or 'pk_test' by environment. */
  prefix?: string;
  scopes?: string[];
  /** A member of the tenant the key acts for. */
  userId?: string | null;
  metadata?: JsonObject;
  expiresAt?: Date | null;
}

/** A new key and its secret, `<prefix>_<random>_<tenant id>`: shown this once, never stored. */
export interface CreatedAppKey {
  key: AppKey;
  secret: string;
}

export interface RotateOptions {
  /** Expiry of the new key; default: the old key's lifetime (expires - created) from now. */
  expiresAt?: Date | null;
}

export interface RotatedAppKey extends CreatedAppKey {
  /** The old key, now revoked. */
  previous: AppKey;
}

/**
 * The `set` list of an update from the fields present in `patch` (undefined = unchanged,
 * null = cleared): `columns` maps field → column, `json` names jsonb fields. Null when empty.
 * A patch that is not an object, or a field of the wrong type, is a ValidationError naming it.
 */
export function setList(
  sql: Queryable,
  entity: string,
  patch: unknown,
  columns: Record<string, string>,
  json: readonly string[] = [],
) {
  const fields = plainObject(entity, patch, 'patch');
  const row: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(columns)) {
    const value = fields[field];
    if (value === undefined) continue;
    if (json.includes(field)) optionalObject(entity, { [field]: value });
    else optionalText(entity, { [field]: value });
    row[column] = json.includes(field) && value !== null ? sql.json(value as JSONValue) : value;
  }
  return Object.keys(row).length === 0 ? null : sql(row as Record<string, never>);
}

/** A jsonb parameter (null stays null). */
export function jsonb(sql: Queryable, value: JsonObject | null | undefined) {
  return value == null ? null : sql.json(value as JSONValue);
}
