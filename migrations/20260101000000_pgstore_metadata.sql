-- migrate:up

-- pgstore's own metadata and the helpers every other migration uses.
--
-- pg_trgm serves the substring searches over users (auth) and hosts. It is a trusted
-- extension (PostgreSQL 13+), so a database owner without superuser may create it.
-- Operator classes are referenced as public.gin_trgm_ops in later migrations.
create extension if not exists pg_trgm with schema public;

-- Beware: a role named `pgstore` would see this schema first in the default search_path
-- ("$user", public) and create its unqualified objects here; the embedded server's superuser
-- is therefore named `postgres`, and setup's roles are <database>_owner and <database>_app.
create schema pgstore;
comment on schema pgstore is
  'pgstore''s own metadata: environment marker, applied seeds; shared helper functions. (Applied migrations and their checksums are in public.schema_migrations, dbmate''s table.)';

-- UUIDv7 (RFC 9562) without the pg_uuidv7 extension, which the embedded build lacks (seed 004
-- relied on it). Layout:
--   48 bits  Unix time in milliseconds, from clock_timestamp() (not now(): ids made in one
--            transaction still advance)
--    4 bits  version 7
--   12 bits  sub-millisecond fraction (RFC 9562 section 6.2 method 3, as PostgreSQL 18's own
--            uuidv7() does), so ids made in the same millisecond by one session still sort
--   64 bits  bytes 8..15 of gen_random_uuid(): the variant bits 10 and 62 random bits
create function pgstore.uuidv7() returns uuid
language sql volatile parallel safe
as $$
  select encode(
           int8send(
             ((t.us / 1000) << 16)                  -- milliseconds since the epoch
             | (7 << 12)                            -- version 7
             | (((t.us % 1000) * 4096) / 1000)      -- sub-millisecond fraction, 12 bits
           )
           || substring(uuid_send(gen_random_uuid()) from 9 for 8),
           'hex')::uuid
  from (select (extract(epoch from clock_timestamp()) * 1000000)::bigint as us) as t
$$;
comment on function pgstore.uuidv7() is
  'A time-ordered UUID version 7 (RFC 9562): 48-bit Unix milliseconds, 12-bit sub-millisecond fraction, 62 random bits.';

-- Keeps updated_at honest on every UPDATE (seed 004's decision: a database-level guarantee,
-- not something each code path must remember; seeds 000 and 002 set it only on some paths).
create function pgstore.set_updated_at() returns trigger
language plpgsql
as $$
begin
  new.updated_at := now();
  return new;
end
$$;
comment on function pgstore.set_updated_at() is
  'BEFORE UPDATE trigger: sets NEW.updated_at to now() (the transaction time).';

-- The environment this database serves. At most one row (the primary key is a constant).
-- `pgstore reset` refuses a database marked production.
create table pgstore.environment (
  singleton boolean primary key default true
    constraint environment_singleton check (singleton),
  name text not null
    constraint environment_name_check check (name in ('development', 'test', 'production')),
  set_at timestamptz not null default now(),
  set_by text not null default current_user
);
comment on table pgstore.environment is
  'At most one row: whether this database is development, test or production (reset refuses production). No seed had a guard; seed 004''s reset script dropped whatever it was pointed at.';

-- Seeds applied to this database, so seeding is idempotent and auditable.
create table pgstore.applied_seeds (
  name text primary key,
  sha256 text not null
    constraint applied_seeds_sha256_check check (sha256 ~ '^[0-9a-f]{64}$'),
  applied_at timestamptz not null default now(),
  details jsonb not null default '{}'
    constraint applied_seeds_details_check check (jsonb_typeof(details) = 'object')
);
comment on table pgstore.applied_seeds is
  'Seed files applied to this database (name, checksum, when, details such as row counts); seed 003 ran seeds as migrations, with no record of their content.';

-- migrate:down

drop table pgstore.applied_seeds;
drop table pgstore.environment;
drop function pgstore.set_updated_at();
drop function pgstore.uuidv7();
drop schema pgstore;

-- pg_trgm goes last, and only if nothing else (outside pgstore's schemas) still uses it.
do $$
begin
  drop extension if exists pg_trgm;
exception
  when dependent_objects_still_exist then
    raise notice 'pg_trgm kept: other objects in this database still use it';
  when insufficient_privilege then
    raise notice 'pg_trgm kept: it belongs to another role';
end
$$;
