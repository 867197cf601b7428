-- The only ways across the tenant fence: security-definer functions in schema lookup, owned by
-- dashboard_lookup, which may read just the columns listed here. Each returns only what its step
-- needs; none returns another tenant's content. Callers then open a tenant-scoped transaction.

set local role dashboard_owner;
set local search_path to app, public;

grant select (id, subscription_status) on tenants to dashboard_lookup;
create policy lookup_read on tenants for select to dashboard_lookup using (true);

grant select (tenant_id, id, provider, provider_repo_id, installation_id, archived)
  on repositories to dashboard_lookup;
create policy lookup_read on repositories for select to dashboard_lookup using (true);

grant select (id, email_normalized, password_hash, mfa_enabled, disabled_at) on accounts to dashboard_lookup;
create policy lookup_read on accounts for select to dashboard_lookup using (true);

set local role dashboard_lookup;

-- Webhook routing: which tenants connected this provider repository (by numeric id, never by name).
-- Archived repositories still route, so that unarchiving reaches them.
create function lookup.repositories_by_provider_id(p_provider text, p_provider_repo_id bigint)
returns table (tenant_id uuid, repository_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select r.tenant_id, r.id
  from app.repositories r join app.tenants t on t.id = r.tenant_id
  where r.provider = p_provider and r.provider_repo_id = p_provider_repo_id
    and t.subscription_status in ('trialing', 'active', 'past_due')
$$;

-- Webhook routing for installation events: the tenants whose repositories use this installation.
create function lookup.tenants_by_installation(p_installation_id bigint)
returns table (tenant_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select distinct r.tenant_id
  from app.repositories r
  where r.installation_id = p_installation_id
$$;

-- Sign-in by email: the account's id and what verifying the password needs, nothing else.
create function lookup.account_for_login(p_email text)
returns table (account_id uuid, password_hash text, mfa_enabled boolean, disabled boolean)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select a.id, a.password_hash, a.mfa_enabled, a.disabled_at is not null
  from app.accounts a
  where a.email_normalized = lower(p_email)
$$;

-- The daily resync: every repository of a tenant in good standing, as (tenant, repository) ids.
create function lookup.repositories_to_resync()
returns table (tenant_id uuid, repository_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select r.tenant_id, r.id
  from app.repositories r join app.tenants t on t.id = r.tenant_id
  where not r.archived and t.subscription_status in ('trialing', 'active', 'past_due')
$$;

revoke all on all functions in schema lookup from public;
grant execute on all functions in schema lookup to dashboard_app;

reset role;
