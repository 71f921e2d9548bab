-- migrate:up

-- The hosts event store's integrity, for databases new and already migrated.
--
-- 1. hosts.host_events_apply locks the statement's streams first and compares their versions
--    after the lock, in a statement of its own. In 20260101000003 the lock and the comparison
--    were one query, and the planner pushed the comparison below the LockRows node (a join
--    filter): a stream row whose snapshot still showed the expected version was filtered out
--    before it was locked and never rechecked, and step 4's update then waited for the other
--    writer and applied anyway. Two appends with one expected version both won (about one
--    round in ten with 2 writers), and the history forked.
-- 2. Concurrent HostCreated of one (ip, hostname) under different ids take turns on an
--    advisory lock per pair (small statements), so the later one gets the duplicate error
--    instead of a deadlock a second later.
-- 3. The trigger function runs as the owner of the hosts tables (SECURITY DEFINER, fixed
--    search_path), and no one else may execute it or the functions that write the
--    projection: the application role appends events and reads; its grants are in
--    src/store/hosts-grants.ts (grantHostsAccess, called from admin.ts), applied by `pgstore setup`.

create or replace function hosts.host_events_apply() returns trigger
language plpgsql
-- Runs as the owner of the hosts tables, so that the application role needs no write access
-- to hosts.streams and hosts.hosts: appending an event is its only way to change them.
security definer
-- Every name below is schema-qualified; pg_temp last, so no temporary object can stand in.
set search_path = pg_catalog, pg_temp
-- Sorts of a large statement's events stay in memory (the default 4MB spills 100k events).
set work_mem = '64MB'
as $$
declare
  v record;
begin
  -- Only as the AFTER INSERT FOR EACH STATEMENT trigger of hosts.host_events (EXECUTE is not
  -- granted to anyone, so no one can attach it to a table of their own either).
  if tg_relid <> 'hosts.host_events'::regclass or tg_op <> 'INSERT' or tg_level <> 'STATEMENT' or tg_when <> 'AFTER' then
    raise exception 'hosts.host_events_apply() is the AFTER INSERT statement trigger of hosts.host_events only'
      using errcode = '42501';
  end if;

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
    -- Concurrent creators of one (ip, hostname) under different ids: see step 6.
    if not exists (select 1 from new_events n where n.event_type = 'HostCreated' offset 64) then
      perform pg_advisory_xact_lock(1752134516, p.h)
      from (select distinct hashtext((n.event ->> 'ipAddress') || ' ' || (n.event ->> 'hostname')) as h
            from new_events n order by 1) p;
    end if;
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

  -- 3. Lock the statement's streams in aggregate order: a concurrent writer of one of them
  -- waits here until this transaction ends. Only then, in the next statement (a new snapshot,
  -- which sees what that writer committed), compare. The lock and the comparison were one
  -- query before 20261205000001, and the planner pushed the comparison below the lock: a row
  -- whose version still looked as expected was filtered out unlocked and never checked again,
  -- so two writers with one expected version both won.
  perform 1
  from hosts.streams s
  where s.aggregate_id in (select n.aggregate_id from new_events n)
  order by s.aggregate_id
  for update of s;

  -- A stream whose last_seq is this statement's last event was created in step 2: the
  -- aggregate had no events. An existing stream must also end before the statement's first
  -- event, so that per aggregate, seq order is commit order.
  select c.aggregate_id, c.expected_version, c.actual into v
  from (select b.aggregate_id, b.expected_version, b.first_seq, s.last_seq,
               case when s.last_seq = b.last_seq then null else s.version end as actual
        from (select distinct on (n.aggregate_id) n.aggregate_id, n.expected_version, n.seq as first_seq,
                     max(n.seq) over (partition by n.aggregate_id) as last_seq
              from new_events n
              order by n.aggregate_id, n.seq) b
        join hosts.streams s on s.aggregate_id = b.aggregate_id) c
  where c.expected_version is distinct from c.actual
     or (c.actual is not null and c.last_seq > c.first_seq)
  order by c.aggregate_id
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

  -- 6. The projection. First, for a statement of at most 64 HostCreated events, a lock
  -- per created (ip, hostname), in one order: concurrent creators of one pair under
  -- different ids then take turns, and the later one gets 23505 from the live-pair
  -- constraint. Without it, each inserts its row and then waits for the other's (the
  -- constraint is deferrable, so checked after the insert), and one of them is killed as a
  -- deadlock a second later. Larger statements (imports) take no such locks: a lock each
  -- would fill the server's lock table; two of them racing on one pair still end in a
  -- deadlock error for one. (Lock class 1752134516 is 'host' in ASCII.)
  if not exists (select 1 from new_events n where n.event_type = 'HostCreated' offset 64) then
    perform pg_advisory_xact_lock(1752134516, p.h)
    from (select distinct hashtext((n.event ->> 'ipAddress') || ' ' || (n.event ->> 'hostname')) as h
          from new_events n where n.event_type = 'HostCreated' order by 1) p;
  end if;

  -- Aggregates with one event in the statement (single appends, imports)
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
  'AFTER INSERT FOR EACH STATEMENT on host_events (transition table new_events), SECURITY DEFINER (the owner of the hosts tables): locks the statement''s streams, then checks each aggregate''s expected versions against them (PGS01), advances the streams, checks each event against the entry''s state (PGS01 HostCreated of a live entry, PGS02 other events without one) and applies the events to hosts.hosts (23505 hosts_live_ip_hostname_key for a duplicate live ip/hostname).';

-- The definer is the owner of the hosts tables, whoever runs this migration (normally that
-- same owner: pgstore migrates as the database owner's role).
do $$
declare
  table_owner name := (select pg_get_userbyid(c.relowner) from pg_class c where c.oid = 'hosts.host_events'::regclass);
begin
  if (select pg_get_userbyid(p.proowner) from pg_proc p where p.oid = 'hosts.host_events_apply()'::regprocedure) <> table_owner then
    execute format('alter function hosts.host_events_apply() owner to %I', table_owner);
  end if;
end
$$;

-- Functions are executable by PUBLIC by default. These write the projection or stand in
-- for the trigger: only their owner needs them (the trigger calls apply_event and
-- raise_version_conflict as the owner). Execute on a trigger function is what CREATE TRIGGER
-- checks, so without it no role can attach host_events_apply to a table of its own and feed
-- it rows.
revoke execute on function hosts.host_events_apply() from public;
revoke execute on function hosts.apply_event(text, text, jsonb, text, timestamptz, bigint) from public;
revoke execute on function hosts.rebuild_projection() from public;
revoke execute on function hosts.raise_version_conflict(text, text, text) from public;
revoke execute on function hosts.host_events_append_only() from public;

-- Earlier versions of setup granted every role it made DML on all hosts tables and EXECUTE on
-- all its functions. A migration alone (without a setup run, which re-grants exactly what the
-- stores need) takes back from every role but the owner what lets it write the streams or the
-- projection directly, rewrite the log, or run the functions above.
do $$
declare
  table_owner oid := (select c.relowner from pg_class c where c.oid = 'hosts.host_events'::regclass);
  grantee name;
begin
  for grantee in
    select distinct coalesce(nullif(pg_get_userbyid(a.grantee), 'unknown (OID=0)'), '-')
    from pg_class c, aclexplode(c.relacl) a
    where c.oid in ('hosts.streams'::regclass, 'hosts.hosts'::regclass, 'hosts.host_events'::regclass)
      and a.grantee <> table_owner
      and a.privilege_type <> 'SELECT'
  loop
    -- TRIGGER too: a trigger on these tables would run its code as their owner.
    execute format('revoke insert, update, delete, truncate, references, trigger on hosts.streams, hosts.hosts from %s',
                   case when grantee = '-' then 'public' else quote_ident(grantee) end);
    execute format('revoke update, delete, truncate, references, trigger on hosts.host_events from %s',
                   case when grantee = '-' then 'public' else quote_ident(grantee) end);
  end loop;
  for grantee in
    select distinct pg_get_userbyid(a.grantee)
    from pg_proc p, aclexplode(p.proacl) a
    where p.oid in ('hosts.host_events_apply()'::regprocedure, 'hosts.apply_event(text, text, jsonb, text, timestamptz, bigint)'::regprocedure,
                    'hosts.rebuild_projection()'::regprocedure, 'hosts.raise_version_conflict(text, text, text)'::regprocedure,
                    'hosts.host_events_append_only()'::regprocedure)
      and a.grantee <> p.proowner and a.grantee <> 0
  loop
    execute format('revoke execute on function hosts.host_events_apply(), hosts.apply_event(text, text, jsonb, text, timestamptz, bigint), '
                   'hosts.rebuild_projection(), hosts.raise_version_conflict(text, text, text), hosts.host_events_append_only() from %I', grantee);
  end loop;
end
$$;

-- migrate:down

-- The function goes back to running as the caller, with the grants of 20260101000003. Its
-- lock-then-compare body stays: the body it replaced let two writers win, and no schema
-- depends on the difference.
grant execute on function hosts.host_events_apply() to public;
grant execute on function hosts.apply_event(text, text, jsonb, text, timestamptz, bigint) to public;
grant execute on function hosts.rebuild_projection() to public;
grant execute on function hosts.raise_version_conflict(text, text, text) to public;
grant execute on function hosts.host_events_append_only() to public;
alter function hosts.host_events_apply() security invoker;
alter function hosts.host_events_apply() reset search_path;
