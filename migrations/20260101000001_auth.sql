-- migrate:up

-- Identity: users, how they sign in (password, OAuth), sessions, nonces, profile data and roles.
-- Designed from seeds 000 (Torii), 003 and 004 (normalized auth, RBAC, UUIDv7, triggers).
-- Every table that belongs to one user cascades from auth.users: deleting a user deletes
-- everything that is only theirs (seed 000's oauth_accounts had no cascade, so a user with
-- an OAuth link could not be deleted).
create schema auth;
comment on schema auth is 'Identity: users, credentials, external logins, sessions, nonces, profiles, preferences, roles.';

-- ---------------------------------------------------------------------------------------------
-- users
-- ---------------------------------------------------------------------------------------------
create table auth.users (
  id uuid primary key default pgstore.uuidv7(),
  email text not null
    constraint users_email_check check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' and length(email) <= 320),
  name text,
  status text not null default 'active'
    constraint users_status_check check (status in ('active', 'suspended', 'disabled')),
  email_verified_at timestamptz,
  -- Full-text search document over name and email. The address is also split at '@', '.',
  -- '+', '_' and '-' so that 'example' finds alice@example.com (the default parser keeps
  -- an email address as one token).
  search_vector tsvector generated always as (
    setweight(to_tsvector('simple', coalesce(name, '')), 'A')
    || setweight(to_tsvector('simple', email), 'B')
    || setweight(to_tsvector('simple', translate(email, '@.+_-', '     ')), 'C')
  ) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table auth.users is
  'One row per person. UUIDv7 keys (seed 004 wanted pg_uuidv7, absent from the embedded build; seed 000 used random v4); email not null and unique case-insensitively (seed 000: nullable, case-sensitive unique); status checked; password moved to auth.user_credentials (seed 000 kept it on users).';
comment on column auth.users.search_vector is
  'Generated: to_tsvector(''simple'', ...) over name and email; query with search_vector @@ websearch_to_tsquery(''simple'', $1).';

-- Case-insensitive uniqueness; also the lookup path of getByEmail (where lower(email) = lower($1))
-- and the conflict target of getOrCreateByEmail: insert ... on conflict ((lower(email))) do nothing.
create unique index users_email_key on auth.users (lower(email));
-- Substring search (lower(email) like '%' || $1 || '%', likewise name).
create index users_email_trgm_idx on auth.users using gin (lower(email) public.gin_trgm_ops);
create index users_name_trgm_idx on auth.users using gin (lower(name) public.gin_trgm_ops);
-- Full-text search.
create index users_search_vector_idx on auth.users using gin (search_vector);

create trigger set_updated_at before update on auth.users
  for each row execute function pgstore.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- user_credentials
-- ---------------------------------------------------------------------------------------------
create table auth.user_credentials (
  user_id uuid primary key references auth.users (id) on delete cascade,
  -- A PHC string, e.g. $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash> or $scrypt$ln=17,r=8,p=1$...
  password_hash text not null
    constraint user_credentials_password_hash_check check (password_hash ~ '^\$[a-z0-9-]{1,32}(\$[^$[:space:]]*)+$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table auth.user_credentials is
  'Email/password sign-in: the password hash as a PHC string (algorithm and parameters travel with the hash, so rehash-on-login is possible). Split from users as seed 004 decided; seed 000 kept an unchecked password_hash on users, returned with every user read.';

create trigger set_updated_at before update on auth.user_credentials
  for each row execute function pgstore.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- user_external_logins
-- ---------------------------------------------------------------------------------------------
create table auth.user_external_logins (
  id uuid primary key default pgstore.uuidv7(),
  user_id uuid not null references auth.users (id) on delete cascade,
  provider text not null constraint user_external_logins_provider_check check (provider <> ''),
  subject text not null constraint user_external_logins_subject_check check (subject <> ''),
  email text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_login_at timestamptz,
  -- One external identity belongs to one user. Also the lookup path of
  -- getUserByProviderAndSubject.
  constraint user_external_logins_provider_subject_key unique (provider, subject)
);
comment on table auth.user_external_logins is
  'OAuth/OIDC identities linked to a user (many per user). Seed 000''s oauth_accounts was unique on (user_id, provider, subject), so one identity could be linked to several users, and had no cascade (its user could not be deleted).';

create index user_external_logins_user_id_idx on auth.user_external_logins (user_id);

create trigger set_updated_at before update on auth.user_external_logins
  for each row execute function pgstore.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- user_profiles, user_preferences
-- ---------------------------------------------------------------------------------------------
create table auth.user_profiles (
  user_id uuid primary key references auth.users (id) on delete cascade,
  display_name text,
  avatar_url text,
  bio text,
  locale text,
  time_zone text,
  metadata jsonb not null default '{}'
    constraint user_profiles_metadata_check check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table auth.user_profiles is
  'Display data of a user (one row per user, upserted). Seed 004''s split: profile changes never touch the identity row.';

create trigger set_updated_at before update on auth.user_profiles
  for each row execute function pgstore.set_updated_at();

create table auth.user_preferences (
  user_id uuid primary key references auth.users (id) on delete cascade,
  preferences jsonb not null default '{}'
    constraint user_preferences_preferences_check check (jsonb_typeof(preferences) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table auth.user_preferences is
  'Settings of a user as one JSON object (one row per user, upserted). Seed 004''s split.';

create trigger set_updated_at before update on auth.user_preferences
  for each row execute function pgstore.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- sessions
-- ---------------------------------------------------------------------------------------------
create table auth.sessions (
  id uuid primary key default pgstore.uuidv7(),
  -- A hash (e.g. SHA-256) of the opaque token given to the client; the token itself is never
  -- stored, so a database dump cannot be replayed as sessions.
  token_hash bytea not null
    constraint sessions_token_hash_check check (octet_length(token_hash) between 16 and 64),
  user_id uuid not null references auth.users (id) on delete cascade,
  user_agent text,
  ip_address inet,
  expires_at timestamptz not null,
  last_seen_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint sessions_token_hash_key unique (token_hash)
);
comment on table auth.sessions is
  'Signed-in sessions, looked up by the hash of their token (where token_hash = $1 and expires_at > now()). Seed 000: the session id was the bearer token, user_id and expires_at were nullable (sessions that never expire), ip_address was text.';

create index sessions_user_id_idx on auth.sessions (user_id);
-- cleanupExpired: delete from auth.sessions where expires_at <= now().
create index sessions_expires_at_idx on auth.sessions (expires_at);

create trigger set_updated_at before update on auth.sessions
  for each row execute function pgstore.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- nonces
-- ---------------------------------------------------------------------------------------------
create table auth.nonces (
  value text primary key constraint nonces_value_check check (value <> ''),
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
comment on table auth.nonces is
  'Single-use expiring values (OAuth state, OIDC nonce, email links). Consumed with delete ... where value = $1 and expires_at > now() returning value, so of concurrent consumers exactly one gets it. Seed 000: value was not unique, nothing enforced expiry or single use.';

-- purgeExpired: delete from auth.nonces where expires_at <= now().
create index nonces_expires_at_idx on auth.nonces (expires_at);

-- ---------------------------------------------------------------------------------------------
-- roles, user_roles
-- ---------------------------------------------------------------------------------------------
create table auth.roles (
  id smallint generated always as identity primary key,
  name text not null
    constraint roles_name_check check (name ~ '^[a-z][a-z0-9-]{0,62}$'),
  description text,
  built_in boolean not null default false,
  created_at timestamptz not null default now(),
  constraint roles_name_key unique (name)
);
comment on table auth.roles is
  'Role catalogue (seed 004 RBAC). The built-in roles are created here, by the migration, so every database has them (seed 004 inserted them by hand in a setup script).';

insert into auth.roles (name, description, built_in) values
  ('user', 'Base role of every account', true),
  ('email-verified', 'The account''s email address has been verified', true),
  ('trusted-contact', 'May see personal content', true),
  ('admin', 'Full system access', true);

create table auth.user_roles (
  user_id uuid not null references auth.users (id) on delete cascade,
  role_id smallint not null references auth.roles (id) on delete cascade,
  granted_at timestamptz not null default now(),
  primary key (user_id, role_id)
);
comment on table auth.user_roles is
  'Which user has which role. The primary key makes assign idempotent (on conflict do nothing) and serves hasRole/listForUser; user_roles_role_id_idx serves usersWithRole.';

create index user_roles_role_id_idx on auth.user_roles (role_id);

-- migrate:down

drop table auth.user_roles;
drop table auth.roles;
drop table auth.nonces;
drop table auth.sessions;
drop table auth.user_preferences;
drop table auth.user_profiles;
drop table auth.user_external_logins;
drop table auth.user_credentials;
drop table auth.users;
drop schema auth;
