/**
 * Profiles (auth.user_profiles) and preferences (auth.user_preferences): one row per user,
 * upserted. Seed 004's split: display data and settings never touch the identity row.
 */
import { ValidationError } from '../../errors.js';
import { type ErrorContext, guard } from '../map-error.js';
import type { Queryable } from '../queryable.js';
import { isUuid, type Preferences, type Profile } from './types.js';
import { jsonObject, optionalText, plainObject } from '../validate.js';

const profileCtx: ErrorContext = {
  entity: 'profile',
  foreignKeys: { user_profiles_user_id_fkey: 'profile: the user does not exist' },
};
const preferencesCtx: ErrorContext = {
  entity: 'preferences',
  foreignKeys: { user_preferences_user_id_fkey: 'preferences: the user does not exist' },
};

/** Fields of a profile to set; a field left out keeps its value, null clears it. */
export interface ProfilePatch {
  displayName?: string | null;
  avatarUrl?: string | null;
  bio?: string | null;
  locale?: string | null;
  timeZone?: string | null;
  metadata?: Record<string, unknown>;
}

const PROFILE_FIELDS = {
  displayName: 'display_name',
  avatarUrl: 'avatar_url',
  bio: 'bio',
  locale: 'locale',
  timeZone: 'time_zone',
  metadata: 'metadata',
} as const satisfies Record<keyof ProfilePatch, string>;

const PROFILE_COLUMNS = `user_id as "userId", display_name as "displayName", avatar_url as "avatarUrl", bio, locale,
  time_zone as "timeZone", metadata, created_at as "createdAt", updated_at as "updatedAt"`;
const PREFERENCES_COLUMNS = `user_id as "userId", preferences, created_at as "createdAt", updated_at as "updatedAt"`;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function checkUserId(userId: string, entity: string): void {
  if (!isUuid(userId)) throw new ValidationError(`${entity}: userId is not a valid id`, { field: 'userId' });
}

/** Builds the profiles store on `sql` (a pool or a transaction). */
export function createProfilesStore(sql: Queryable) {
  const cols = sql.unsafe(PROFILE_COLUMNS);

  return {
    /** A user's profile, or null when none was saved. */
    get: (userId: string): Promise<Profile | null> =>
      guard(profileCtx, async () => {
        if (!isUuid(userId)) return null;
        const [row] = await sql<Profile[]>`select ${cols} from auth.user_profiles where user_id = ${userId}`;
        return row ?? null;
      }),

    /** Creates or updates a user's profile with the fields given; ForeignKeyError when the user does not exist. */
    upsert: (userId: string, patch: ProfilePatch): Promise<Profile> =>
      guard(profileCtx, async () => {
        checkUserId(userId, 'profile');
        plainObject('profile', patch, 'patch');
        optionalText('profile', {
          displayName: patch.displayName,
          avatarUrl: patch.avatarUrl,
          bio: patch.bio,
          locale: patch.locale,
          timeZone: patch.timeZone,
        });
        if (patch.metadata !== undefined) {
          if (!isObject(patch.metadata))
            throw new ValidationError('profile: metadata must be an object', { field: 'metadata' });
          jsonObject('profile', patch.metadata, 'metadata');
        }
        const keys = (Object.keys(PROFILE_FIELDS) as (keyof ProfilePatch)[]).filter((key) => patch[key] !== undefined);
        // biome-ignore lint/suspicious/noExplicitAny: postgres.js helper input
        const values: Record<string, any> = { user_id: userId };
        for (const key of keys)
          values[PROFILE_FIELDS[key]] = key === 'metadata' ? sql.json(patch.metadata as never) : (patch[key] ?? null);
        const columns = Object.keys(values);
        const set = keys.length
          ? sql`do update set ${sql(
              values,
              keys.map((key) => PROFILE_FIELDS[key]),
            )}`
          : sql`do update set user_id = excluded.user_id`;
        const [row] = await sql<Profile[]>`
          insert into auth.user_profiles ${sql(values, columns)}
          on conflict (user_id) ${set}
          returning ${cols}`;
        return row!;
      }),
  };
}

/** Builds the preferences store on `sql` (a pool or a transaction). */
export function createPreferencesStore(sql: Queryable) {
  const cols = sql.unsafe(PREFERENCES_COLUMNS);

  async function write(userId: string, preferences: Record<string, unknown>, merge: boolean): Promise<Preferences> {
    checkUserId(userId, 'preferences');
    if (!isObject(preferences)) throw new ValidationError('preferences: must be an object', { field: 'preferences' });
    jsonObject('preferences', preferences, 'preferences');
    const value = sql.json(preferences as never);
    const update = merge ? sql`p.preferences || excluded.preferences` : sql`excluded.preferences`;
    const [row] = await sql<Preferences[]>`
      insert into auth.user_preferences as p (user_id, preferences) values (${userId}, ${value})
      on conflict (user_id) do update set preferences = ${update}
      returning ${cols}`;
    return row!;
  }

  return {
    /** A user's preferences, or null when none were saved. */
    get: (userId: string): Promise<Preferences | null> =>
      guard(preferencesCtx, async () => {
        if (!isUuid(userId)) return null;
        const [row] = await sql<Preferences[]>`select ${cols} from auth.user_preferences where user_id = ${userId}`;
        return row ?? null;
      }),

    /** Replaces a user's preferences with `preferences`. */
    upsert: (userId: string, preferences: Record<string, unknown>): Promise<Preferences> =>
      guard(preferencesCtx, () => write(userId, preferences, false)),

    /** Merges `changes` into a user's preferences (top-level keys replaced, others kept). */
    merge: (userId: string, changes: Record<string, unknown>): Promise<Preferences> =>
      guard(preferencesCtx, () => write(userId, changes, true)),
  };
}

export type ProfilesStore = ReturnType<typeof createProfilesStore>;
export type PreferencesStore = ReturnType<typeof createPreferencesStore>;
