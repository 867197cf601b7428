-- The hourly reconciler asks GitHub which deliveries failed, then redelivers the ones we never
-- stored. It needs, across tenants, only: which delivery GUIDs are stored, and which repository hooks
-- exist (with the installation that can read their deliveries).

set local role dashboard_owner;
grant select (delivery_id) on app.webhook_deliveries to dashboard_lookup;
create policy lookup_read on app.webhook_deliveries for select to dashboard_lookup using (true);
grant select (delivery_id) on app.unrouted_deliveries to dashboard_lookup;
create policy lookup_read on app.unrouted_deliveries for select to dashboard_lookup using (true);
grant select (full_name) on app.repositories to dashboard_lookup;
create index webhook_deliveries_delivery on app.webhook_deliveries (delivery_id);
reset role;

set local role dashboard_lookup;

-- Which of these delivery GUIDs we stored, for any tenant or none.
create function lookup.stored_deliveries(p_delivery_ids text[])
returns setof text
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select delivery_id from app.webhook_deliveries where delivery_id = any(p_delivery_ids)
  union
  select delivery_id from app.unrouted_deliveries where delivery_id = any(p_delivery_ids)
$$;

-- Every repository hook the system created, with what listing its deliveries needs.
create function lookup.repository_hooks()
returns table (tenant_id uuid, repository_id uuid, full_name text, hook_id bigint, installation_id bigint)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select r.tenant_id, r.id, r.full_name, r.webhook_hook_id, r.installation_id
  from app.repositories r join app.tenants t on t.id = r.tenant_id
  where r.webhook_hook_id is not null and r.installation_id is not null and not r.archived
    and t.subscription_status in ('trialing', 'active', 'past_due')
$$;

revoke all on function lookup.stored_deliveries(text[]), lookup.repository_hooks() from public;
grant execute on function lookup.stored_deliveries(text[]), lookup.repository_hooks() to dashboard_app;

reset role;
