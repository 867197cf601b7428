-- Deliveries from the repository hooks the system creates are signed with that hook's own random
-- secret (two may be active during a rotation), stored encrypted in the repository row. The webhook
-- selects them by X-GitHub-Hook-ID before it knows the tenant: only through this function, which
-- returns the hook's owner and its sealed secrets, nothing else.

set local role dashboard_owner;
grant select (webhook_hook_id, webhook_secret_encrypted, webhook_secret_previous_encrypted)
  on app.repositories to dashboard_lookup;
create index repositories_webhook_hook on app.repositories (webhook_hook_id) where webhook_hook_id is not null;
reset role;

set local role dashboard_lookup;

create function lookup.repository_hook_secrets(p_hook_id bigint)
returns table (tenant_id uuid, repository_id uuid, secret_encrypted bytea, previous_secret_encrypted bytea)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select r.tenant_id, r.id, r.webhook_secret_encrypted, r.webhook_secret_previous_encrypted
  from app.repositories r join app.tenants t on t.id = r.tenant_id
  where r.webhook_hook_id = p_hook_id and r.webhook_secret_encrypted is not null
    and t.subscription_status in ('trialing', 'active', 'past_due')
$$;

revoke all on function lookup.repository_hook_secrets(bigint) from public;
grant execute on function lookup.repository_hook_secrets(bigint) to dashboard_app;

reset role;
