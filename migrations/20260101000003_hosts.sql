-- migrate:up

-- Event-sourced hosts-file entries (seed 001) and their snapshots.
--
--   hosts.host_events   the append-only log; the truth
--   hosts.streams       one row per aggregate: its latest version (the optimistic-concurrency lock)
--   hosts.hosts         the current state of LIVE entries, maintained by a trigger in the same
--                       transaction as each append; all reads come from here
--   hosts.snapshots     saved renderings of the hosts file, for diff and rollback
--
-- Errors raised here (SQLSTATE):
--   PGS01  version conflict: expected_version is not the aggregate's latest version (null
--          expected = the aggregate must not exist yet), or a HostCreated for a live entry.
--          DETAIL is 'expected=<v>;actual=<v>' (empty = none).
--   PGS02  not found: an event other than HostCreated for an aggregate with no live entry.
--   PGS03  host_events is append-only: UPDATE or DELETE of events.
--   23505  on constraint hosts_live_ip_hostname_key: a live entry with that (ip, hostname)
--          already exists.
--
-- Ordering: "latest" is the insertion order (seq). event_version is the caller's opaque
-- token; seed 001 ordered by it, but ULIDs made in the same millisecond do not sort by time.
-- ip_address and hostname compare in byte order (COLLATE "C"): '192.168.1.1' < '192.168.10.1'.
create schema hosts;
comment on schema hosts is 'Event-sourced hosts-file entries: event log, streams, current-state projection, snapshots.';

-- ---------------------------------------------------------------------------------------------
-- host_events
-- ---------------------------------------------------------------------------------------------
create table hosts.host_events (
  seq bigserial primary key,
  event_id text not null
    constraint host_events_event_id_check check (event_id <> ''),
  aggregate_id text collate "C" not null
    constraint host_events_aggregate_id_check check (aggregate_id <> ''),
  event_type text not null
    constraint host_events_event_type_check check (event_type in (
      'HostCreated', 'IpAddressChanged', 'HostnameChanged', 'CommentUpdated',
      'TagsModified', 'AliasesModified', 'HostDeleted')),
  event_version text not null
    constraint host_events_event_version_check check (event_version <> ''),
  expected_version text,
  -- The event as the caller gave it, e.g. {"type":"HostCreated","ipAddress":...}. If it
  -- carries a "type" key, that key must agree with event_type.
  event jsonb not null
    constraint host_events_event_check check (
      jsonb_typeof(event) = 'object' and (not event ? 'type' or event ->> 'type' = event_type)),
  metadata jsonb not null default '{}'
    constraint host_events_metadata_check check (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz not null,   -- the caller's timestamp: time travel uses it
  created_by text,
  recorded_at timestamptz not null default now(),
  constraint host_events_event_id_key unique (event_id),
  constraint host_events_aggregate_version_key unique (aggregate_id, event_version)
);
comment on table hosts.host_events is
  'Append-only event log of host entries; seq is the insertion order that defines "latest". Seed 001: no sequence (ordered by the caller''s ULIDs), tags and metadata as text, a read-then-insert version check that let two concurrent writers through, and a projection view using IGNORE NULLS (not in PostgreSQL) over every event.';
comment on column hosts.host_events.seq is 'Insertion order. Per aggregate it is also commit order, because appends to one aggregate serialize on its hosts.streams row.';
comment on column hosts.host_events.expected_version is 'The version the writer based this event on (null: the aggregate must not exist yet). Checked by the host_events_check_version trigger.';

-- loadEvents / history in append order; time travel per aggregate.
create index host_events_aggregate_seq_idx on hosts.host_events (aggregate_id, seq);
create index host_events_created_at_idx on hosts.host_events (created_at);

-- ---------------------------------------------------------------------------------------------
-- streams
-- ---------------------------------------------------------------------------------------------
create table hosts.streams (
  aggregate_id text collate "C" primary key,
  version text not null,          -- event_version of the latest event
  last_seq bigint not null,       -- seq of the latest event
  event_count integer not null
    constraint streams_event_count_check check (event_count > 0)
)
-- Every append updates its stream row; free space on each page keeps those updates HOT.
with (fillfactor = 70);
comment on table hosts.streams is
  'One row per aggregate with its latest version: getCurrentVersion and countEvents read it, and appends lock it (select ... for update), which makes the version check hold under concurrency. Seed 001 read the version and inserted without a lock, so two writers with the same expected version both succeeded.';

-- ---------------------------------------------------------------------------------------------
-- hosts (the projection)
-- ---------------------------------------------------------------------------------------------
create table hosts.hosts (
  id text collate "C" primary key,            -- the aggregate id
  ip_address text collate "C" not null,
  hostname text collate "C" not null,
  aliases text[] not null default '{}',
  comment text,
  tags text[] not null default '{}',
  created_at timestamptz not null,            -- created_at of the HostCreated event
  updated_at timestamptz not null,            -- created_at of the latest event
  version text not null,                      -- event_version of the latest event
  last_seq bigint not null,                   -- seq of the latest event
  -- One live entry per (ip, hostname); deleted entries are not here, so they never block
  -- re-creation. Also the index for listAll's order by ip_address, hostname.
  -- Deferrable (checked at the end of each statement; a transaction may
  -- `set constraints hosts.hosts_live_ip_hostname_key deferred` to swap two entries).
  constraint hosts_live_ip_hostname_key unique (ip_address, hostname) deferrable initially immediate
)
-- Most appends update a row here; free space on each page lets updates of non-indexed
-- columns (comment, aliases, updated_at, version) be HOT.
with (fillfactor = 80);
comment on table hosts.hosts is
  'Current state of live host entries, one row per aggregate, maintained by the host_events_apply trigger in the same transaction as each append (rebuild with hosts.rebuild_projection()). updated_at is the latest event''s created_at (the caller''s time), so this table has no set_updated_at trigger. Replaces seed 001''s host_entries_current view: it scanned every event on each read, needed IGNORE NULLS, and kept the last non-null comment, so a comment could never be cleared.';

-- search: substring patterns (like '%' || escaped || '%', with %, _ and \ escaped by the caller).
create index hosts_ip_address_trgm_idx on hosts.hosts using gin (ip_address public.gin_trgm_ops);
create index hosts_hostname_trgm_idx on hosts.hosts using gin (hostname public.gin_trgm_ops);
-- search by tags: tags && $1::text[] (any of the given tags).
create index hosts_tags_idx on hosts.hosts using gin (tags);

-- ---------------------------------------------------------------------------------------------
-- Helpers and triggers
-- ---------------------------------------------------------------------------------------------

-- A JSON array of strings as text[], in order; JSON null or a missing key gives '{}'.
-- plpgsql, not SQL: a SQL function that cannot be inlined is planned again on every execution
-- of the statement calling it, which tripled the cost of applying each event (measured on
-- 100k HostCreated events: 7.0 s with a SQL helper, 2.4 s with this one).
create function hosts.jsonb_text_array(value jsonb) returns text[]
language plpgsql immutable parallel safe
as $$
begin
  if value is null or jsonb_typeof(value) = 'null' then
    return '{}';
  end if;
  return array(select t.elem from jsonb_array_elements_text(value) with ordinality as t(elem, n) order by t.n);
end
$$;
comment on function hosts.jsonb_text_array(jsonb) is 'A JSON array of strings as text[] (order kept); null gives an empty array.';

-- BEFORE INSERT: optimistic concurrency, in the database.
create function hosts.host_events_check_version() returns trigger
language plpgsql
as $$
declare
  v_created boolean := false;
  v_actual text;        -- the aggregate's latest version before this event; null: no events
begin
  -- Lock the aggregate's stream row until this transaction ends. A concurrent writer with
  -- the same expected version waits here, then reads the version written by the winner.
  select s.version into v_actual
  from hosts.streams s
  where s.aggregate_id = new.aggregate_id
  for update;

  if not found then
    -- No stream yet: create it. If this insert creates it, the aggregate had no events
    -- (v_actual stays null). If another transaction is creating the same stream right now,
    -- the insert waits for it; when that one commits, nothing is inserted and the stream it
    -- made is locked and read instead.
    insert into hosts.streams (aggregate_id, version, last_seq, event_count)
    values (new.aggregate_id, new.event_version, new.seq, 1)
    on conflict (aggregate_id) do nothing
    returning true into v_created;

    if not coalesce(v_created, false) then
      select s.version into v_actual
      from hosts.streams s
      where s.aggregate_id = new.aggregate_id
      for update;
    end if;
  end if;

  if new.expected_version is distinct from v_actual then
    raise exception using
      errcode = 'PGS01',
      message = format('version conflict on host %s: expected version %s, actual version %s',
                       new.aggregate_id,
                       coalesce(new.expected_version, 'none (new host)'),
                       coalesce(v_actual, 'none (no events)')),
      detail = format('expected=%s;actual=%s',
                      coalesce(new.expected_version, ''), coalesce(v_actual, '')),
      hint = 'Reload the host and retry with its current version.';
  end if;

  if not coalesce(v_created, false) then
    update hosts.streams
    set version = new.event_version,
        last_seq = new.seq,
        event_count = event_count + 1
    where aggregate_id = new.aggregate_id;
  end if;

  return new;
end
$$;
comment on function hosts.host_events_check_version() is
  'BEFORE INSERT on host_events: locks the aggregate''s stream row, compares expected_version with its version (PGS01 on mismatch), advances it.';

-- AFTER INSERT: apply the event to the projection, in the same transaction.
create function hosts.host_events_apply() returns trigger
language plpgsql
as $$
declare
  e constant jsonb := new.event;
  v_live_version text;
begin
  if new.event_type = 'HostCreated' then
    insert into hosts.hosts (id, ip_address, hostname, aliases, comment, tags,
                             created_at, updated_at, version, last_seq)
    values (new.aggregate_id, e ->> 'ipAddress', e ->> 'hostname',
            hosts.jsonb_text_array(e -> 'aliases'), e ->> 'comment',
            hosts.jsonb_text_array(e -> 'tags'),
            new.created_at, new.created_at, new.event_version, new.seq)
    on conflict (id) do nothing;
    if not found then
      -- Only reachable when expected_version named the live entry's own version.
      select h.version into v_live_version from hosts.hosts h where h.id = new.aggregate_id;
      raise exception using
        errcode = 'PGS01',
        message = format('host %s already exists', new.aggregate_id),
        detail = format('expected=%s;actual=%s',
                        coalesce(new.expected_version, ''), coalesce(v_live_version, ''));
    end if;
    return null;
  end if;

  case new.event_type
    when 'IpAddressChanged' then
      update hosts.hosts
      set ip_address = e ->> 'newIp',
          updated_at = new.created_at, version = new.event_version, last_seq = new.seq
      where id = new.aggregate_id;
    when 'HostnameChanged' then
      update hosts.hosts
      set hostname = e ->> 'newHostname',
          updated_at = new.created_at, version = new.event_version, last_seq = new.seq
      where id = new.aggregate_id;
    when 'CommentUpdated' then
      -- A missing or null newComment clears the comment.
      update hosts.hosts
      set comment = e ->> 'newComment',
          updated_at = new.created_at, version = new.event_version, last_seq = new.seq
      where id = new.aggregate_id;
    when 'TagsModified' then
      update hosts.hosts
      set tags = hosts.jsonb_text_array(e -> 'newTags'),
          updated_at = new.created_at, version = new.event_version, last_seq = new.seq
      where id = new.aggregate_id;
    when 'AliasesModified' then
      update hosts.hosts
      set aliases = hosts.jsonb_text_array(e -> 'newAliases'),
          updated_at = new.created_at, version = new.event_version, last_seq = new.seq
      where id = new.aggregate_id;
    when 'HostDeleted' then
      -- A tombstone: the entry leaves the projection, its events stay.
      delete from hosts.hosts where id = new.aggregate_id;
  end case;

  if not found then
    raise exception using
      errcode = 'PGS02',
      message = format('host %s not found', new.aggregate_id),
      detail = format('An event of type %s needs a live host entry; %s has none (never created, or deleted).',
                      new.event_type, new.aggregate_id);
  end if;
  return null;
end
$$;
comment on function hosts.host_events_apply() is
  'AFTER INSERT on host_events: applies the event to hosts.hosts (PGS02 when the entry is not live; PGS01 for a HostCreated of a live entry; 23505 hosts_live_ip_hostname_key for a duplicate live ip/hostname).';

-- UPDATE / DELETE of events: refused. (TRUNCATE is not affected.)
create function hosts.host_events_append_only() returns trigger
language plpgsql
as $$
begin
  raise exception using
    errcode = 'PGS03',
    message = 'hosts.host_events is append-only: events are never updated or deleted',
    hint = 'A deleted host is a HostDeleted event. To start over, truncate hosts.host_events, hosts.streams and hosts.hosts together.';
end
$$;

create trigger host_events_check_version before insert on hosts.host_events
  for each row execute function hosts.host_events_check_version();
create trigger host_events_apply after insert on hosts.host_events
  for each row execute function hosts.host_events_apply();
create trigger host_events_append_only before update or delete on hosts.host_events
  for each statement execute function hosts.host_events_append_only();

-- ---------------------------------------------------------------------------------------------
-- Set-based folds: time travel and rebuilds
-- ---------------------------------------------------------------------------------------------

-- The state of every aggregate (live or deleted) from its events with created_at <= at, in
-- one pass: per field, the value of the latest event (by seq) that sets it. HostCreated sets
-- every field, so nothing from before a delete and re-creation leaks through; a null
-- newComment is a value like any other, so a cleared comment stays cleared.
create function hosts.fold_events(at timestamptz)
returns table (
  aggregate_id text,
  live boolean,
  ip_address text,
  hostname text,
  aliases text[],
  comment text,
  tags text[],
  created_at timestamptz,
  updated_at timestamptz,
  version text,
  last_seq bigint,
  event_count integer
)
language sql stable parallel safe
as $$
  select
    e.aggregate_id,
    (array_agg(e.event_type order by e.seq desc))[1] <> 'HostDeleted'
      and bool_or(e.event_type = 'HostCreated'),
    (array_agg(case e.event_type when 'HostCreated' then e.event ->> 'ipAddress' else e.event ->> 'newIp' end
               order by e.seq desc)
       filter (where e.event_type in ('HostCreated', 'IpAddressChanged')))[1],
    (array_agg(case e.event_type when 'HostCreated' then e.event ->> 'hostname' else e.event ->> 'newHostname' end
               order by e.seq desc)
       filter (where e.event_type in ('HostCreated', 'HostnameChanged')))[1],
    hosts.jsonb_text_array(
      (array_agg(case e.event_type when 'HostCreated' then e.event -> 'aliases' else e.event -> 'newAliases' end
                 order by e.seq desc)
         filter (where e.event_type in ('HostCreated', 'AliasesModified')))[1]),
    (array_agg(case e.event_type when 'HostCreated' then e.event ->> 'comment' else e.event ->> 'newComment' end
               order by e.seq desc)
       filter (where e.event_type in ('HostCreated', 'CommentUpdated')))[1],
    hosts.jsonb_text_array(
      (array_agg(case e.event_type when 'HostCreated' then e.event -> 'tags' else e.event -> 'newTags' end
                 order by e.seq desc)
         filter (where e.event_type in ('HostCreated', 'TagsModified')))[1]),
    (array_agg(e.created_at order by e.seq desc) filter (where e.event_type = 'HostCreated'))[1],
    (array_agg(e.created_at order by e.seq desc))[1],
    (array_agg(e.event_version order by e.seq desc))[1],
    max(e.seq),
    count(*)::integer
  from hosts.host_events e
  where e.created_at <= $1
  group by e.aggregate_id
$$;
comment on function hosts.fold_events(timestamptz) is
  'State of every aggregate (live flag included) from its events with created_at <= at, in one pass over the events. Used by fold_at and rebuild_projection.';

-- Time travel: the live entries as of a time, with the columns (and byte-order collation) of
-- hosts.hosts. select * from hosts.fold_at($1) order by ip_address, hostname.
create function hosts.fold_at(at timestamptz) returns setof hosts.hosts
language sql stable parallel safe
as $$
  select f.aggregate_id, f.ip_address, f.hostname, f.aliases, f.comment, f.tags,
         f.created_at, f.updated_at, f.version, f.last_seq
  from hosts.fold_events($1) as f
  where f.live
$$;
comment on function hosts.fold_at(timestamptz) is
  'Live host entries as of a time (events with created_at <= at), same columns as hosts.hosts. Seed 001 had no time travel on PostgreSQL.';

-- Rebuilds hosts.streams and hosts.hosts from the whole log; returns the number of live
-- entries. Bulk loads: alter table hosts.host_events disable trigger user; copy ...;
-- alter table hosts.host_events enable trigger user; select hosts.rebuild_projection();
create function hosts.rebuild_projection() returns bigint
language plpgsql
as $$
declare
  v_live bigint;
begin
  -- Appends wait until this transaction ends; appends in flight finish first.
  lock table hosts.host_events in share mode;
  truncate hosts.hosts, hosts.streams;

  with folded as materialized (
    select * from hosts.fold_events('infinity')
  ), rebuilt_streams as (
    insert into hosts.streams (aggregate_id, version, last_seq, event_count)
    select f.aggregate_id, f.version, f.last_seq, f.event_count from folded f
  )
  insert into hosts.hosts (id, ip_address, hostname, aliases, comment, tags,
                           created_at, updated_at, version, last_seq)
  select f.aggregate_id, f.ip_address, f.hostname, f.aliases, f.comment, f.tags,
         f.created_at, f.updated_at, f.version, f.last_seq
  from folded f
  where f.live;

  get diagnostics v_live = row_count;
  return v_live;
end
$$;
comment on function hosts.rebuild_projection() is
  'Truncates and rebuilds hosts.streams and hosts.hosts from all events in one pass; returns the number of live entries.';

-- ---------------------------------------------------------------------------------------------
-- snapshots
-- ---------------------------------------------------------------------------------------------
create table hosts.snapshots (
  snapshot_id text primary key
    constraint snapshots_snapshot_id_check check (snapshot_id <> ''),
  created_at timestamptz not null,      -- the caller's timestamp: retention by age uses it
  hosts_content text not null,          -- the rendered hosts file
  entry_count integer not null
    constraint snapshots_entry_count_check check (entry_count >= 0),
  trigger text not null
    constraint snapshots_trigger_check check (trigger <> ''),
  name text,
  event_log_position bigint,            -- hosts.host_events.seq at the time of the snapshot
  entries jsonb                          -- the HostEntry objects, so a rollback restores aliases and tags exactly
    constraint snapshots_entries_check check (entries is null or jsonb_typeof(entries) = 'array')
);
comment on table hosts.snapshots is
  'Saved hosts files. listSnapshots (newest first) and age-based retention use snapshots_created_at_idx. Seed 001 kept only the rendered text (a rollback cannot restore aliases and tags exactly) and defaulted created_at to the server clock; here created_at is required: the caller''s timestamp.';

create index snapshots_created_at_idx on hosts.snapshots (created_at desc);

-- migrate:down

drop table hosts.snapshots;
drop function hosts.rebuild_projection();
drop function hosts.fold_at(timestamptz);
drop function hosts.fold_events(timestamptz);
drop table hosts.host_events;
drop function hosts.host_events_append_only();
drop function hosts.host_events_apply();
drop function hosts.host_events_check_version();
drop function hosts.jsonb_text_array(jsonb);
drop table hosts.hosts;
drop table hosts.streams;
drop schema hosts;
