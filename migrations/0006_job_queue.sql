-- The job queue's cross-tenant side. Enqueueing, listing and replaying happen inside a tenant
-- transaction under the ordinary tenant policy. Only claiming and finishing must see every tenant's
-- jobs: they go through security-definer functions in schema queue, owned by dashboard_queue, a
-- NOLOGIN role that may read and update jobs and nothing else.
--
-- A claim locks the job row (`for update skip locked`) in the worker's own transaction, which stays
-- open while the job runs: if the worker dies, the transaction ends, the lock is released and the job
-- runs again. Finishing marks it done, or schedules a retry with exponential backoff, or marks it
-- dead after max_attempts.

do $$
begin
  create role dashboard_queue nologin nosuperuser nobypassrls nocreaterole nocreatedb;
exception when duplicate_object or unique_violation then null;
end
$$;
do $$
begin
  grant dashboard_queue to current_user;
exception when unique_violation then null;
end
$$;

create schema queue authorization dashboard_queue;
revoke all on schema queue from public;
grant usage on schema queue to dashboard_app;
grant usage on schema app to dashboard_queue;

set local role dashboard_owner;
grant select, update on app.jobs to dashboard_queue;
create policy queue_worker on app.jobs for all to dashboard_queue using (true) with check (true);
reset role;

set local role dashboard_queue;

-- The next runnable job of `p_queue` whose kind this worker handles, locked until the caller's
-- transaction ends. Nothing when every runnable job is taken.
create function queue.lock_next(p_queue text, p_kinds text[])
returns table (tenant_id uuid, id uuid, kind text, payload jsonb, attempts integer)
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  select j.tenant_id, j.id, j.kind, j.payload, j.attempts
  from app.jobs j
  where j.queue = p_queue and j.kind = any(p_kinds) and j.status = 'queued' and j.run_at <= now()
  order by j.run_at
  limit 1
  for update skip locked
$$;

-- One named job (the push transport: Pub/Sub names the job), locked the same way. Nothing when it
-- is not queued (done, dead, or taken by another delivery of the same message).
create function queue.lock_job(p_tenant_id uuid, p_id uuid)
returns table (tenant_id uuid, id uuid, kind text, payload jsonb, attempts integer)
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  select j.tenant_id, j.id, j.kind, j.payload, j.attempts
  from app.jobs j
  where j.tenant_id = p_tenant_id and j.id = p_id and j.status = 'queued'
  for update skip locked
$$;

-- Records the outcome of a locked job. `p_error` null: done. Otherwise one more attempt is counted
-- and the job waits 2^attempts * 5 s (at most an hour, with up to 20% jitter) or, out of attempts,
-- is dead. Returns the new status.
create function queue.finish(p_tenant_id uuid, p_id uuid, p_error text)
returns text
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  update app.jobs j
  set status = case
        when p_error is null then 'done'
        when j.attempts + 1 >= j.max_attempts then 'dead'
        else 'queued' end,
      attempts = j.attempts + case when p_error is null then 0 else 1 end,
      last_error = case when p_error is null then j.last_error else left(p_error, 2000) end,
      run_at = case when p_error is null then j.run_at
        else now() + least(interval '1 hour', interval '5 seconds' * power(2, j.attempts))
                     * (1 + random() * 0.2) end,
      locked_at = null,
      updated_at = now()
  where j.tenant_id = p_tenant_id and j.id = p_id
  returning j.status
$$;

revoke all on all functions in schema queue from public;
grant execute on all functions in schema queue to dashboard_app;

reset role;
