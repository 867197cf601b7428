-- A repository whose polls or scans fail backs off instead of being retried on every scheduler tick:
-- - consecutive_failures: failed attempts since the last success (a success resets all of these);
-- - last_error, last_failed_at: what the last failed attempt said (no secrets: errors never hold
--   them), shown by `dashboard repo list`;
-- - retry_after: the schedulers (poll and daily resync) skip the repository until then: one minute
--   after the first failure, doubling with each one, at most a day.
-- - scan_problems: what the last full scan could not take in (projects beyond the plan's
--   max_projects), shown with the repository.

set local role dashboard_owner;
set local search_path to app, public;

alter table repositories
  add column consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
  add column last_error text check (length(last_error) <= 2000),
  add column last_failed_at timestamptz,
  add column retry_after timestamptz,
  add column scan_problems text[] not null default '{}';

grant select (retry_after) on repositories to dashboard_lookup;

reset role;

set local role dashboard_lookup;

-- As in 0016, and a repository that is backing off is not due.
create or replace function lookup.repositories_to_poll()
returns table (tenant_id uuid, repository_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select r.tenant_id, r.id
  from app.repositories r join app.tenants t on t.id = r.tenant_id
  where r.provider = 'git' and not r.archived
    and t.subscription_status in ('trialing', 'active', 'past_due')
    and (r.last_polled_at is null
         or r.last_polled_at + make_interval(secs => r.poll_interval_seconds) <= now())
    and (r.retry_after is null or r.retry_after <= now())
$$;

-- As in 0005, and a repository that is backing off waits for its next attempt.
create or replace function lookup.repositories_to_resync()
returns table (tenant_id uuid, repository_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select r.tenant_id, r.id
  from app.repositories r join app.tenants t on t.id = r.tenant_id
  where not r.archived and t.subscription_status in ('trialing', 'active', 'past_due')
    and (r.retry_after is null or r.retry_after <= now())
$$;

reset role;
