-- What a repository's sync health needs that the schema lacked, and the plans' names:
-- - last_scan_duration_ms: how long the last finished scan took (written with last_scanned_at);
-- - last_delivery_at: when a webhook delivery about the repository was last stored;
-- - mirror_lock_key(): the advisory lock a poll or scan holds on a repository's mirror while it
--   works (one definition for the scanner, which takes it, and the API, which shows a repository
--   whose lock is held as being synced: held locks are visible in pg_locks);
-- - jobs_repository: the pending and dead jobs of one repository, counted for its health;
-- - plans are free, pro or enterprise (team becomes pro, business enterprise); each organization's
--   limits stay in its max_* columns, set by provisioning and billing.

set local role dashboard_owner;
set local search_path to app, public;

alter table repositories
  add column last_scan_duration_ms integer check (last_scan_duration_ms >= 0),
  add column last_delivery_at timestamptz;

create index jobs_repository on jobs (tenant_id, (payload ->> 'repository'))
  where status in ('queued', 'running', 'dead');

create function mirror_lock_key(p_tenant_id uuid, p_repository_id uuid)
returns bigint
language sql immutable parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select hashtextextended('mirror ' || p_tenant_id::text || ' ' || p_repository_id::text, 0)
$$;
grant execute on function mirror_lock_key(uuid, uuid) to dashboard_app;

-- Row-level security is forced on tenants: the owner sees the rows only with the fence lifted, inside
-- this transaction (as in 0023).
alter table tenants drop constraint tenants_plan_check;
alter table tenants no force row level security;
update tenants set plan = case plan when 'team' then 'pro' when 'business' then 'enterprise' else plan end
  where plan in ('team', 'business');
alter table tenants force row level security;
alter table tenants add constraint tenants_plan_check check (plan in ('free', 'pro', 'enterprise'));

reset role;
