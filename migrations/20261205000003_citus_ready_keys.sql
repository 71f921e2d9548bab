-- migrate:up

-- tenancy.app_keys ready to be distributed by tenant_id on Citus (issue 14, section 5; README,
-- "Citus readiness"). Citus enforces a primary key or unique constraint only if it contains
-- the distribution column, and a foreign key between distributed tables only if it pairs the
-- distribution column with itself; 20260101000002 had four global keys and a global self
-- reference:
--
--   app_keys_pkey               (id)            -> (tenant_id, id)
--   app_keys_key_id_key         (key_id)        -> (tenant_id, key_id): every lookup by key id
--                                                  names its tenant and app already
--   app_keys_secret_hash_key    (secret_hash)   -> (secret_hash, tenant_id): verify now reads the
--                                                  tenant from the secret and probes both columns;
--                                                  the hash first, so keys issued before this
--                                                  migration (their secret carries no tenant) are
--                                                  still found by the hash alone (see app-keys.ts)
--   app_keys_rotated_from_key   (rotated_from)  -> (tenant_id, rotated_from)
--   app_keys_rotated_from_fkey  (rotated_from) references (id) on delete set null
--                               -> (tenant_id, rotated_from) references (tenant_id, id), NO ACTION.
--       Citus refuses ON DELETE SET NULL on a foreign key that includes the distribution column,
--       PostgreSQL 15's column-list form SET NULL (rotated_from) included (Citus checks the
--       action, not the columns: foreign_constraint.c, EnsureSupportedFKeyOnDistKey). The store's
--       delete clears its successor's rotated_from itself, in the same transaction; cascades
--       (app, member, tenant) remove a key together with its successor, which has the same app
--       and member.
--
-- Uniqueness is now per tenant. The random parts (key id ~119 bits, secret ~256 bits) make a
-- clash across tenants as unlikely as within one; nothing read them across tenants but verify.

alter table tenancy.app_keys drop constraint app_keys_rotated_from_fkey;
alter table tenancy.app_keys drop constraint app_keys_rotated_from_key;
alter table tenancy.app_keys drop constraint app_keys_secret_hash_key;
alter table tenancy.app_keys drop constraint app_keys_key_id_key;
alter table tenancy.app_keys drop constraint app_keys_pkey;

alter table tenancy.app_keys add constraint app_keys_pkey primary key (tenant_id, id);
alter table tenancy.app_keys add constraint app_keys_key_id_key unique (tenant_id, key_id);
alter table tenancy.app_keys add constraint app_keys_secret_hash_key unique (secret_hash, tenant_id);
alter table tenancy.app_keys add constraint app_keys_rotated_from_key unique (tenant_id, rotated_from);
alter table tenancy.app_keys add constraint app_keys_rotated_from_fkey
  foreign key (tenant_id, rotated_from) references tenancy.app_keys (tenant_id, id);

comment on column tenancy.app_keys.secret_hash is
  'SHA-256 of the whole secret. Secrets issued since migration 20261205000003 are <prefix>_<random>_<tenant id>, so verify probes (secret_hash, tenant_id) on one shard; older ones, <prefix>_<random>, are found by the hash alone.';

-- migrate:down

alter table tenancy.app_keys drop constraint app_keys_rotated_from_fkey;
alter table tenancy.app_keys drop constraint app_keys_rotated_from_key;
alter table tenancy.app_keys drop constraint app_keys_secret_hash_key;
alter table tenancy.app_keys drop constraint app_keys_key_id_key;
alter table tenancy.app_keys drop constraint app_keys_pkey;

alter table tenancy.app_keys add constraint app_keys_pkey primary key (id);
alter table tenancy.app_keys add constraint app_keys_key_id_key unique (key_id);
alter table tenancy.app_keys add constraint app_keys_rotated_from_key unique (rotated_from);
alter table tenancy.app_keys add constraint app_keys_secret_hash_key unique (secret_hash);
alter table tenancy.app_keys add constraint app_keys_rotated_from_fkey
  foreign key (rotated_from) references tenancy.app_keys (id) on delete set null;

comment on column tenancy.app_keys.secret_hash is null;
