-- The Pub/Sub sweeper: jobs still queued long after they were last touched lost their message
-- (a failed publish, or a retry Pub/Sub gave up on). Ids only; the sweeper re-publishes them.

set local role dashboard_queue;

create function queue.stale_jobs(p_older_than_seconds double precision)
returns table (tenant_id uuid, id uuid, kind text, queue text)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select j.tenant_id, j.id, j.kind, j.queue
  from app.jobs j
  where j.status = 'queued'
    and j.run_at <= now()
    and j.updated_at < now() - make_interval(secs => p_older_than_seconds)
  order by j.run_at
  limit 1000
$$;

revoke all on function queue.stale_jobs(double precision) from public;
grant execute on function queue.stale_jobs(double precision) to dashboard_app;

reset role;
