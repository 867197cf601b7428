-- Retention: finished jobs and stored deliveries do not pile up forever. Deleting across tenants
-- goes through security-definer functions, each deleting one bounded batch per call (the caller
-- repeats until a batch comes back short):
--
--   queue.purge_jobs           done jobs last changed more than p_done_days ago, dead jobs more than
--                              p_dead_days ago (a replayed job is queued again, so it stays).
--   lookup.purge_deliveries    deliveries received more than p_days ago that no unfinished job
--                              (queued, running or dead: it may be replayed) still reads.
--   lookup.purge_unrouted_deliveries
--                              deliveries no tenant owns, older than p_days or beyond the newest
--                              p_keep of their installation (of their repository when they name no
--                              installation).
--
-- The roles get delete and the key columns they select on, never a body or a header.

set local role dashboard_owner;
grant delete on app.jobs to dashboard_queue;
create index jobs_finished on app.jobs (updated_at) where status in ('done', 'dead');

-- The deliveries a job reads are named by its dedup key (the delivery's id).
grant select (tenant_id, dedup_key, status) on app.jobs to dashboard_lookup;
create policy lookup_read on app.jobs for select to dashboard_lookup using (true);
create index jobs_unfinished_dedup on app.jobs (tenant_id, dedup_key)
  where status <> 'done' and dedup_key is not null;

grant select (tenant_id, id, received_at), delete on app.webhook_deliveries to dashboard_lookup;
create policy lookup_purge on app.webhook_deliveries for delete to dashboard_lookup using (true);
create index webhook_deliveries_received on app.webhook_deliveries (received_at);

grant select (hook_id, delivery_id, installation_id, provider_repo_id, received_at), delete
  on app.unrouted_deliveries to dashboard_lookup;
create policy lookup_purge on app.unrouted_deliveries for delete to dashboard_lookup using (true);
create index unrouted_deliveries_newest on app.unrouted_deliveries
  (installation_id, provider_repo_id, received_at desc);
reset role;

set local role dashboard_queue;

create function queue.purge_jobs(p_done_days integer, p_dead_days integer, p_limit integer)
returns bigint
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  with doomed as (
    select j.tenant_id, j.id
    from app.jobs j
    where (j.status = 'done' and j.updated_at < now() - make_interval(days => p_done_days))
       or (j.status = 'dead' and j.updated_at < now() - make_interval(days => p_dead_days))
    limit p_limit
    for update skip locked
  ), deleted as (
    delete from app.jobs j using doomed d
    where j.tenant_id = d.tenant_id and j.id = d.id
    returning 1
  )
  select count(*) from deleted
$$;

revoke all on function queue.purge_jobs(integer, integer, integer) from public;
grant execute on function queue.purge_jobs(integer, integer, integer) to dashboard_app;

reset role;
set local role dashboard_lookup;

create function lookup.purge_deliveries(p_days integer, p_limit integer)
returns bigint
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  with doomed as (
    select w.tenant_id, w.id
    from app.webhook_deliveries w
    where w.received_at < now() - make_interval(days => p_days)
      and not exists (
        select 1 from app.jobs j
        where j.tenant_id = w.tenant_id and j.dedup_key = w.id::text and j.status <> 'done'
      )
    limit p_limit
  ), deleted as (
    delete from app.webhook_deliveries w using doomed d
    where w.tenant_id = d.tenant_id and w.id = d.id
    returning 1
  )
  select count(*) from deleted
$$;

create function lookup.purge_unrouted_deliveries(p_days integer, p_keep integer, p_limit integer)
returns bigint
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  with ranked as (
    select u.hook_id, u.delivery_id, u.received_at,
           row_number() over (
             partition by u.installation_id,
                          case when u.installation_id is null then u.provider_repo_id end
             order by u.received_at desc, u.delivery_id desc) as newest
    from app.unrouted_deliveries u
  ), doomed as (
    select r.hook_id, r.delivery_id
    from ranked r
    where r.newest > p_keep or r.received_at < now() - make_interval(days => p_days)
    limit p_limit
  ), deleted as (
    delete from app.unrouted_deliveries u using doomed d
    where u.hook_id = d.hook_id and u.delivery_id = d.delivery_id
    returning 1
  )
  select count(*) from deleted
$$;

revoke all on function lookup.purge_deliveries(integer, integer),
  lookup.purge_unrouted_deliveries(integer, integer, integer) from public;
grant execute on function lookup.purge_deliveries(integer, integer),
  lookup.purge_unrouted_deliveries(integer, integer, integer) to dashboard_app;

reset role;
