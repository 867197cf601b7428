-- Repositories of the plain `git` provider (any clone URL or local path), polled rather than pushed:
-- - poll_interval_seconds, last_polled_at: when the next poll is due (5 minutes by default);
-- - branch_heads: every branch's commit as of the last poll (`{"main": "<sha>"}`), so a poll finds
--   what is new on every branch, forced pushes and deleted branches included;
-- - credential_*: a token (HTTP) or an SSH private key for a private remote, sealed with
--   SECRETS_ENCRYPTION_KEY (or the local key) and bound to the tenant and repository.
-- A git repository is connected once per tenant and URL.

set local role dashboard_owner;
set local search_path to app, public;

alter table repositories
  add column poll_interval_seconds integer not null default 300
    check (poll_interval_seconds between 30 and 86400),
  add column last_polled_at timestamptz,
  add column branch_heads jsonb not null default '{}' check (jsonb_typeof(branch_heads) = 'object'),
  add column credential_kind text check (credential_kind in ('token', 'ssh_key')),
  add column credential_username text check (length(credential_username) between 1 and 255),
  add column credential_encrypted bytea,
  add constraint repositories_credential_complete
    check ((credential_kind is null) = (credential_encrypted is null));
create unique index repositories_git_url on repositories (tenant_id, clone_url) where provider = 'git';

grant select (poll_interval_seconds, last_polled_at) on repositories to dashboard_lookup;
grant select (slug) on tenants to dashboard_lookup;

reset role;

set local role dashboard_lookup;

-- The poll scheduler: every `git` repository of a tenant in good standing whose poll is due, as
-- (tenant, repository) ids.
create function lookup.repositories_to_poll()
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
$$;

-- The local commands name an organization by its slug: its id, nothing else.
create function lookup.tenant_by_slug(p_slug text)
returns uuid
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select t.id from app.tenants t where t.slug = p_slug
$$;

revoke all on function lookup.repositories_to_poll(), lookup.tenant_by_slug(text) from public;
grant execute on function lookup.repositories_to_poll(), lookup.tenant_by_slug(text) to dashboard_app;

reset role;
