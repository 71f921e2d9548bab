-- migrate:up

-- Multi-tenancy (seed 002): tenants, their apps and branches, their members, which member
-- may use which app, and API keys. Every tenant-scoped key and index starts with tenant_id.
--
-- What changed from seed 002 overall: timestamptz instead of timestamp; statuses are checked;
-- jsonb columns are objects and never null; seed 002's per-tenant `users` table (a second,
-- unrelated identity with its own email) is replaced by memberships of auth.users.
create schema tenancy;
comment on schema tenancy is 'Multi-tenancy: tenants, apps, branches, memberships, app access, API keys.';

-- ---------------------------------------------------------------------------------------------
-- tenants
-- ---------------------------------------------------------------------------------------------
create table tenancy.tenants (
  id text primary key
    constraint tenants_id_check check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  name text not null
    constraint tenants_name_check check (btrim(name) <> ''),
  domain text,
  status text not null default 'active'
    constraint tenants_status_check check (status in ('active', 'suspended', 'disabled')),
  settings jsonb not null default '{}'
    constraint tenants_settings_check check (jsonb_typeof(settings) = 'object'),
  metadata jsonb not null default '{}'
    constraint tenants_metadata_check check (jsonb_typeof(metadata) = 'object'),
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table tenancy.tenants is
  'Organisations. Soft delete through deleted_at (restore clears it). Seed 002: id unchecked varchar(255); the name was unique even among deleted tenants, so a deleted tenant''s name could never be reused; status was free text next to a ''deleted'' status and deleted_at; db_dsn kept connection strings (with passwords) in plain columns (put non-secret routing in settings instead).';

-- Name unique (case-insensitively) among live tenants; getByName uses it:
-- where lower(name) = lower($1) and deleted_at is null.
create unique index tenants_name_key on tenancy.tenants (lower(name)) where deleted_at is null;
create index tenants_domain_idx on tenancy.tenants (lower(domain)) where domain is not null;

create trigger set_updated_at before update on tenancy.tenants
  for each row execute function pgstore.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- apps
-- ---------------------------------------------------------------------------------------------
create table tenancy.apps (
  tenant_id text not null references tenancy.tenants (id) on delete cascade,
  id text not null
    constraint apps_id_check check (id <> '' and length(id) <= 128),
  name text not null
    constraint apps_name_check check (btrim(name) <> ''),
  type text not null
    constraint apps_type_check check (type <> ''),
  status text not null default 'active'
    constraint apps_status_check check (status in ('active', 'disabled')),
  config jsonb not null default '{}'
    constraint apps_config_check check (jsonb_typeof(config) = 'object'),
  metadata jsonb not null default '{}'
    constraint apps_metadata_check check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint apps_name_key unique (tenant_id, name)
);
comment on table tenancy.apps is
  'Applications of a tenant (web, mobile, api, service...). Key (tenant_id, id); name unique per tenant. Seed 002 indexed type and status alone (useless across tenants); here listByType uses (tenant_id, type).';

create index apps_type_idx on tenancy.apps (tenant_id, type);

create trigger set_updated_at before update on tenancy.apps
  for each row execute function pgstore.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- branches
-- ---------------------------------------------------------------------------------------------
create table tenancy.branches (
  tenant_id text not null,
  app_id text not null,
  id text not null
    constraint branches_id_check check (id <> '' and length(id) <= 128),
  code text not null
    constraint branches_code_check check (code <> ''),
  name text not null
    constraint branches_name_check check (btrim(name) <> ''),
  type text not null
    constraint branches_type_check check (type <> ''),
  status text not null default 'active'
    constraint branches_status_check check (status in ('active', 'disabled')),
  address jsonb
    constraint branches_address_check check (address is null or jsonb_typeof(address) = 'object'),
  contact jsonb
    constraint branches_contact_check check (contact is null or jsonb_typeof(contact) = 'object'),
  settings jsonb not null default '{}'
    constraint branches_settings_check check (jsonb_typeof(settings) = 'object'),
  metadata jsonb not null default '{}'
    constraint branches_metadata_check check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, app_id, id),
  foreign key (tenant_id, app_id) references tenancy.apps (tenant_id, id) on delete cascade,
  constraint branches_code_key unique (tenant_id, app_id, code)
);
comment on table tenancy.branches is
  'Locations of a tenant''s app (headquarters, store, warehouse...). Key (tenant_id, app_id, id); code unique per app. Seed 002 indexed code and type alone, across tenants.';

create index branches_type_idx on tenancy.branches (tenant_id, app_id, type);

create trigger set_updated_at before update on tenancy.branches
  for each row execute function pgstore.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- memberships
-- ---------------------------------------------------------------------------------------------
create table tenancy.memberships (
  tenant_id text not null references tenancy.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  username text not null
    constraint memberships_username_check check (username <> '' and username !~ '[[:space:]]'),
  status text not null default 'active'
    constraint memberships_status_check check (status in ('active', 'suspended', 'disabled')),
  metadata jsonb not null default '{}'
    constraint memberships_metadata_check check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);
comment on table tenancy.memberships is
  'A tenant''s users: which auth.users belong to which tenant, under which username. Replaces seed 002''s per-tenant users table, which duplicated identity (its own email and name per tenant, no link to a person). getByEmail joins auth.users on lower(email).';

-- Username unique per tenant, case-insensitively (getByUsername: lower(username) = lower($2)).
create unique index memberships_username_key on tenancy.memberships (tenant_id, lower(username));
create index memberships_user_id_idx on tenancy.memberships (user_id);

create trigger set_updated_at before update on tenancy.memberships
  for each row execute function pgstore.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- user_apps
-- ---------------------------------------------------------------------------------------------
create table tenancy.user_apps (
  tenant_id text not null,
  app_id text not null,
  user_id uuid not null,
  status text not null default 'active'
    constraint user_apps_status_check check (status in ('active', 'revoked')),
  granted_at timestamptz not null default now(),
  revoked_at timestamptz,
  primary key (tenant_id, app_id, user_id),
  foreign key (tenant_id, app_id) references tenancy.apps (tenant_id, id) on delete cascade,
  foreign key (tenant_id, user_id) references tenancy.memberships (tenant_id, user_id) on delete cascade,
  -- revoked_at is set exactly when the grant is revoked.
  constraint user_apps_revoked_at_check check ((status = 'revoked') = (revoked_at is not null))
);
comment on table tenancy.user_apps is
  'Which member may use which app. Grant = upsert to active (re-grant is idempotent and clears revoked_at); revoke = update to revoked. The primary key serves listAppUsers; user_apps_user_idx serves listUserApps. Seed 002 let status and revoked_at disagree.';

create index user_apps_user_idx on tenancy.user_apps (tenant_id, user_id);

-- ---------------------------------------------------------------------------------------------
-- app_keys
-- ---------------------------------------------------------------------------------------------
create table tenancy.app_keys (
  id uuid primary key default pgstore.uuidv7(),
  tenant_id text not null,
  app_id text not null,
  -- The public identifier of the key (shown in lists, used to revoke). Globally unique.
  key_id text not null
    constraint app_keys_key_id_check check (key_id <> ''),
  -- The secret's visible start ('pk_live', 'pk_test' or the caller's), so a leaked secret
  -- can be recognised by scanners; letters and digits in '_'-separated words.
  prefix text not null
    constraint app_keys_prefix_check check (
      prefix ~ '^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$' and length(prefix) <= 32),
  -- A hash of the secret (e.g. SHA-256 of the whole `<prefix>_<random>` string); never the
  -- secret itself. Unique, so verify can find the key by the hash of what it was given.
  secret_hash bytea not null
    constraint app_keys_secret_hash_check check (octet_length(secret_hash) between 16 and 64),
  name text,                      -- an optional label
  environment text not null default 'live'
    constraint app_keys_environment_check check (environment in ('live', 'test')),
  scopes text[] not null default '{}',
  -- The member the key acts for, if any: a member of the key's tenant (removing the member,
  -- or the user, removes their keys).
  user_id uuid,
  metadata jsonb not null default '{}'
    constraint app_keys_metadata_check check (jsonb_typeof(metadata) = 'object'),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  -- The key this one replaced (rotate). Unique: a key has at most one successor, so two
  -- concurrent rotations can never both leave a live key behind.
  rotated_from uuid
    constraint app_keys_rotated_from_fkey references tenancy.app_keys (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (tenant_id, app_id) references tenancy.apps (tenant_id, id) on delete cascade,
  constraint app_keys_user_fkey foreign key (tenant_id, user_id)
    references tenancy.memberships (tenant_id, user_id) on delete cascade,
  constraint app_keys_key_id_key unique (key_id),
  constraint app_keys_rotated_from_key unique (rotated_from),
  constraint app_keys_secret_hash_key unique (secret_hash)
);
comment on table tenancy.app_keys is
  'API keys of a tenant''s app, found by public key_id (get, revoke) or by the hash of the secret (verify). A key is usable when revoked_at is null, (expires_at is null or expires_at > now()) and its tenant is not soft-deleted; verify records last_used_at at most once a minute per key (no write, and no row-lock queue, on every request). Seed 002: secret_hash text of unspecified form, a revoked boolean that could disagree with revoked_at, scopes as untyped jsonb, user_id without a foreign key (here it must be a member of the tenant), timestamps without time zone, and revoking by public key id did nothing (issue 4).';

create index app_keys_tenant_app_idx on tenancy.app_keys (tenant_id, app_id, created_at);
-- Serves the cascade from memberships and listing a member's keys.
create index app_keys_user_idx on tenancy.app_keys (tenant_id, user_id) where user_id is not null;

create trigger set_updated_at before update on tenancy.app_keys
  for each row execute function pgstore.set_updated_at();

-- migrate:down

drop table tenancy.app_keys;
drop table tenancy.user_apps;
drop table tenancy.memberships;
drop table tenancy.branches;
drop table tenancy.apps;
drop table tenancy.tenants;
drop schema tenancy;
