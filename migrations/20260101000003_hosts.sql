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
--          already exists; on host_events_aggregate_version_key: the aggregate already has an
--          event with that event_version (two writers chose the same one).
-- The checks run once per INSERT or COPY statement (an AFTER STATEMENT trigger), so a
-- multi-row insert of events is checked and applied set-based, all or nothing.
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
comment on column hosts.host_events.seq is 'Insertion order. Per aggregate it is also commit order, because appends to one aggregate serialize on its hosts.streams row, and a statement whose first event is older than the stream''s last is refused (PGS01).';
comment on column hosts.host_events.expected_version is 'The version the writer based this event on (null: the aggregate must not exist yet). Checked by the host_events_apply trigger, per statement.';

-- No more indexes: each costs every append (100k events: ~0.15 s each, with a 2 s budget for
-- a 100k-line import). loadEvents finds an aggregate's few events through
-- host_events_aggregate_version_key and sorts them by seq; time travel (fold_events) reads
-- the whole log anyway.

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

-- search: substring patterns (like '%' || escaped || '%', with %, _ and \ escaped by the
-- caller) use these trigram indexes instead of scanning every entry. They cost some write
-- speed (~10 µs an insert each, measured), which bulk imports pay once per batch.
create index hosts_hostname_trgm_idx on hosts.hosts using gin (hostname public.gin_trgm_ops);
create index hosts_ip_address_trgm_idx on hosts.hosts using gin (ip_address public.gin_trgm_ops);
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
  if value is null or jsonb_typeof(value) = 'null' or value = '[]'::jsonb then
    return '{}';
  end if;
  return array(select t.elem from jsonb_array_elements_text(value) with ordinality as t(elem, n) order by t.n);
end
$$;
comment on function hosts.jsonb_text_array(jsonb) is 'A JSON array of strings as text[] (order kept); null gives an empty array.';

-- Appends are checked and applied per INSERT (or COPY) statement, set-based, by one AFTER
-- STATEMENT trigger that sees the statement's events as the transition table new_events.
-- Row-level triggers did the same work one event at a time, at ~40 µs per event (100k
-- HostCreated events in one INSERT: 5.4 s with them, 1.1 s without), which capped imports
-- at ~20k events/s. Every query below reads new_events once and joins it only to indexed
-- tables, so its plan (cached by plpgsql) suits one event and a million alike. JSON arrays
-- become text[] inline (array(select ... jsonb_array_elements_text ...)): 0.5 µs per array,
-- against 2.5 µs through the plpgsql hosts.jsonb_text_array (a function call per row).

-- PGS01 with the expected and actual versions in DETAIL.
create function hosts.raise_version_conflict(p_aggregate_id text, p_expected text, p_actual text) returns void
language plpgsql
as $$
begin
  raise exception using
    errcode = 'PGS01',
    message = format('version conflict on host %s: expected version %s, actual version %s',
                     p_aggregate_id,
                     coalesce(p_expected, 'none (new host)'),
                     coalesce(p_actual, 'none (no events)')),
    detail = format('expected=%s;actual=%s', coalesce(p_expected, ''), coalesce(p_actual, '')),
    hint = 'Reload the host and retry with its current version.';
end
$$;
comment on function hosts.raise_version_conflict(text, text, text) is
  'Raises PGS01 (version conflict) with DETAIL expected=<v>;actual=<v>.';

-- One event applied to the projection; checks were done by the caller. Used for aggregates
-- with several events in one statement, in seq order.
create function hosts.apply_event(p_aggregate_id text, p_event_type text, e jsonb,
                                  p_version text, p_created_at timestamptz, p_seq bigint) returns void
language plpgsql
as $$
begin
  case p_event_type
    when 'HostCreated' then
      insert into hosts.hosts (id, ip_address, hostname, aliases, comment, tags,
                               created_at, updated_at, version, last_seq)
      values (p_aggregate_id, e ->> 'ipAddress', e ->> 'hostname',
              array(select t.v from jsonb_array_elements_text(nullif(e -> 'aliases', 'null')) with ordinality as t(v, i) order by t.i), e ->> 'comment',
              array(select t.v from jsonb_array_elements_text(nullif(e -> 'tags', 'null')) with ordinality as t(v, i) order by t.i),
              p_created_at, p_created_at, p_version, p_seq);
    when 'HostDeleted' then
      delete from hosts.hosts where id = p_aggregate_id;
    else
      update hosts.hosts
      set ip_address = case when p_event_type = 'IpAddressChanged' then e ->> 'newIp' else ip_address end,
          hostname = case when p_event_type = 'HostnameChanged' then e ->> 'newHostname' else hostname end,
          -- A missing or null newComment clears the comment.
          comment = case when p_event_type = 'CommentUpdated' then e ->> 'newComment' else comment end,
          tags = case when p_event_type = 'TagsModified' then array(select t.v from jsonb_array_elements_text(nullif(e -> 'newTags', 'null')) with ordinality as t(v, i) order by t.i) else tags end,
          aliases = case when p_event_type = 'AliasesModified' then array(select t.v from jsonb_array_elements_text(nullif(e -> 'newAliases', 'null')) with ordinality as t(v, i) order by t.i) else aliases end,
          updated_at = p_created_at, version = p_version, last_seq = p_seq
      where id = p_aggregate_id;
  end case;
end
$$;
comment on function hosts.apply_event(text, text, jsonb, text, timestamptz, bigint) is
  'Applies one event to hosts.hosts without checks (host_events_apply checks first).';

-- AFTER INSERT, FOR EACH STATEMENT: optimistic concurrency and the projection, in the database.
create function hosts.host_events_apply() returns trigger
language plpgsql
-- Sorts of a large statement's events stay in memory (the default 4MB spills 100k events).
set work_mem = '64MB'
as $$
declare
  v record;
begin
  -- Fast path (imports, creations): every event is a HostCreated of a new aggregate. Creating
  -- the streams with a plain insert is the version check: an aggregate that has a stream
  -- already, or twice in this statement, is a unique violation (after waiting for a
  -- concurrent creator to commit), reported as PGS01. A new aggregate has no live entry.
  if not exists (select 1 from new_events n where n.event_type <> 'HostCreated' or n.expected_version is not null) then
    begin
      insert into hosts.streams (aggregate_id, version, last_seq, event_count)
      select n.aggregate_id, n.event_version, n.seq, 1 from new_events n order by n.aggregate_id;
    exception when unique_violation then
      select c.aggregate_id, c.actual into v
      from (select n.aggregate_id, n.seq, s.version as actual
            from new_events n join hosts.streams s on s.aggregate_id = n.aggregate_id
            union all
            select n.aggregate_id, n.seq, lag(n.event_version) over (partition by n.aggregate_id order by n.seq)
            from new_events n) c
      where c.actual is not null
      order by c.seq
      limit 1;
      perform hosts.raise_version_conflict(coalesce(v.aggregate_id, '?'), null, v.actual);
    end;
    insert into hosts.hosts (id, ip_address, hostname, aliases, comment, tags,
                             created_at, updated_at, version, last_seq)
    select n.aggregate_id, n.event ->> 'ipAddress', n.event ->> 'hostname',
           array(select t.v from jsonb_array_elements_text(nullif(n.event -> 'aliases', 'null')) with ordinality as t(v, i) order by t.i), n.event ->> 'comment',
           array(select t.v from jsonb_array_elements_text(nullif(n.event -> 'tags', 'null')) with ordinality as t(v, i) order by t.i),
           n.created_at, n.created_at, n.event_version, n.seq
    from new_events n;
    return null;
  end if;

  -- 1. Within the statement, each event of an aggregate names the previous one's version.
  select c.aggregate_id, c.expected_version, c.previous_version into v
  from (select n.aggregate_id, n.expected_version, n.seq,
               lag(n.event_version) over w as previous_version,
               row_number() over w as position
        from new_events n
        window w as (partition by n.aggregate_id order by n.seq)) c
  where c.position > 1 and c.expected_version is distinct from c.previous_version
  order by c.seq
  limit 1;
  if found then
    perform hosts.raise_version_conflict(v.aggregate_id, v.expected_version, v.previous_version);
  end if;

  -- 2. Streams that do not exist yet are created with their final values. If another
  -- transaction is creating the same stream, this insert waits for it; when that one
  -- commits, its row is kept and compared in step 3 (so one of the two fails).
  insert into hosts.streams (aggregate_id, version, last_seq, event_count)
  select b.aggregate_id, b.event_version, b.seq, b.event_count
  from (select distinct on (n.aggregate_id) n.aggregate_id, n.event_version, n.seq,
               (count(*) over (partition by n.aggregate_id))::integer as event_count
        from new_events n
        order by n.aggregate_id, n.seq desc) b
  order by b.aggregate_id
  on conflict (aggregate_id) do nothing;

  -- 3. Lock the statement's streams in aggregate order (a concurrent writer waits here until
  -- this transaction ends, then reads the version written by it) and compare. A stream whose
  -- last_seq is this statement's last event was created in step 2: the aggregate had no
  -- events. An existing stream must also end before the statement's first event, so that
  -- per aggregate, seq order is commit order.
  select c.aggregate_id, c.expected_version, c.actual into v
  from (select b.aggregate_id, b.expected_version, b.first_seq, s.last_seq,
               case when s.last_seq = b.last_seq then null else s.version end as actual
        from (select distinct on (n.aggregate_id) n.aggregate_id, n.expected_version, n.seq as first_seq,
                     max(n.seq) over (partition by n.aggregate_id) as last_seq
              from new_events n
              order by n.aggregate_id, n.seq) b
        join hosts.streams s on s.aggregate_id = b.aggregate_id
        order by b.aggregate_id
        for update of s) c
  where c.expected_version is distinct from c.actual
     or (c.actual is not null and c.last_seq > c.first_seq)
  limit 1;
  if found then
    perform hosts.raise_version_conflict(v.aggregate_id, v.expected_version, v.actual);
  end if;

  -- 4. Advance the streams that existed before this statement.
  update hosts.streams s
  set version = b.event_version, last_seq = b.seq, event_count = s.event_count + b.event_count
  from (select distinct on (n.aggregate_id) n.aggregate_id, n.event_version, n.seq,
               (count(*) over (partition by n.aggregate_id))::integer as event_count
        from new_events n
        order by n.aggregate_id, n.seq desc) b
  where s.aggregate_id = b.aggregate_id and s.last_seq <> b.seq;

  -- 5. Every event needs the right state: a HostCreated an aggregate with no live entry,
  -- any other event a live one. "Live before the event" is decided by the aggregate's
  -- latest earlier HostCreated/HostDeleted in this statement, else by hosts.hosts.
  select x.aggregate_id, x.event_type, x.expected_version into v
  from (select n.aggregate_id, n.event_type, n.expected_version, n.seq,
               max(n.seq) filter (where n.event_type = 'HostCreated') over w as created_seq,
               max(n.seq) filter (where n.event_type = 'HostDeleted') over w as deleted_seq
        from new_events n
        window w as (partition by n.aggregate_id order by n.seq rows between unbounded preceding and 1 preceding)) x
  left join hosts.hosts h on h.id = x.aggregate_id
  where (case when x.created_seq is null and x.deleted_seq is null then h.id is not null
              else coalesce(x.created_seq, 0) > coalesce(x.deleted_seq, 0) end)
        = (x.event_type = 'HostCreated')
  order by x.seq
  limit 1;
  if found then
    if v.event_type = 'HostCreated' then
      -- Only reachable when expected_version named the live entry's own version.
      raise exception using
        errcode = 'PGS01',
        message = format('host %s already exists', v.aggregate_id),
        detail = format('expected=%s;actual=%s', coalesce(v.expected_version, ''), coalesce(v.expected_version, ''));
    end if;
    raise exception using
      errcode = 'PGS02',
      message = format('host %s not found', v.aggregate_id),
      detail = format('An event of type %s needs a live host entry; %s has none (never created, or deleted).',
                      v.event_type, v.aggregate_id);
  end if;

  -- 6. The projection. Aggregates with one event in the statement (single appends, imports)
  -- set-based: tombstones first (they free (ip, hostname) pairs), then changes, then new
  -- entries; aggregates with several events one event at a time, in seq order.
  delete from hosts.hosts h
  using (select m.aggregate_id, m.event_type, count(*) over (partition by m.aggregate_id) as k
         from new_events m) n
  where h.id = n.aggregate_id and n.k = 1 and n.event_type = 'HostDeleted';

  for v in
    select n.aggregate_id, n.event_type, n.event, n.event_version, n.created_at, n.seq
    from (select m.*, count(*) over (partition by m.aggregate_id) as k from new_events m) n
    where n.k > 1
    order by n.seq
  loop
    perform hosts.apply_event(v.aggregate_id, v.event_type, v.event, v.event_version, v.created_at, v.seq);
  end loop;

  update hosts.hosts h
  set ip_address = case when n.event_type = 'IpAddressChanged' then n.event ->> 'newIp' else h.ip_address end,
      hostname = case when n.event_type = 'HostnameChanged' then n.event ->> 'newHostname' else h.hostname end,
      -- A missing or null newComment clears the comment.
      comment = case when n.event_type = 'CommentUpdated' then n.event ->> 'newComment' else h.comment end,
      tags = case when n.event_type = 'TagsModified' then array(select t.v from jsonb_array_elements_text(nullif(n.event -> 'newTags', 'null')) with ordinality as t(v, i) order by t.i) else h.tags end,
      aliases = case when n.event_type = 'AliasesModified' then array(select t.v from jsonb_array_elements_text(nullif(n.event -> 'newAliases', 'null')) with ordinality as t(v, i) order by t.i) else h.aliases end,
      updated_at = n.created_at, version = n.event_version, last_seq = n.seq
  from (select m.aggregate_id, m.event_type, m.event, m.event_version, m.created_at, m.seq,
               count(*) over (partition by m.aggregate_id) as k
        from new_events m) n
  where h.id = n.aggregate_id and n.k = 1 and n.event_type not in ('HostCreated', 'HostDeleted');

  insert into hosts.hosts (id, ip_address, hostname, aliases, comment, tags,
                           created_at, updated_at, version, last_seq)
  select n.aggregate_id, n.event ->> 'ipAddress', n.event ->> 'hostname',
         array(select t.v from jsonb_array_elements_text(nullif(n.event -> 'aliases', 'null')) with ordinality as t(v, i) order by t.i), n.event ->> 'comment',
         array(select t.v from jsonb_array_elements_text(nullif(n.event -> 'tags', 'null')) with ordinality as t(v, i) order by t.i),
         n.created_at, n.created_at, n.event_version, n.seq
  from (select m.aggregate_id, m.event_type, m.event, m.event_version, m.created_at, m.seq,
               count(*) over (partition by m.aggregate_id) as k
        from new_events m) n
  where n.k = 1 and n.event_type = 'HostCreated';

  return null;
end
$$;
comment on function hosts.host_events_apply() is
  'AFTER INSERT FOR EACH STATEMENT on host_events (transition table new_events): checks each aggregate''s expected versions against hosts.streams under a row lock (PGS01), advances the streams, checks each event against the entry''s state (PGS01 HostCreated of a live entry, PGS02 other events without one) and applies the events to hosts.hosts (23505 hosts_live_ip_hostname_key for a duplicate live ip/hostname).';

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

create trigger host_events_apply after insert on hosts.host_events
  referencing new table as new_events
  for each statement execute function hosts.host_events_apply();
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
drop function hosts.apply_event(text, text, jsonb, text, timestamptz, bigint);
drop function hosts.raise_version_conflict(text, text, text);
drop function hosts.jsonb_text_array(jsonb);
drop table hosts.hosts;
drop table hosts.streams;
drop schema hosts;
