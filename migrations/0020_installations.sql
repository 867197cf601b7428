-- GitHub App installations belong to one tenant each, and App deliveries reach a repository only
-- through the installation it was connected with.
--
-- - installations: which tenant owns which installation id. Only a verified installation flow fills
--   it (the API adds it; until then tests and seeds insert rows); an installation id is owned by at
--   most one tenant (globally unique, like GitHub's ids themselves).
-- - repositories.installation_id references the tenant's own installation (composite key), so a row
--   cannot be attached to another tenant's installation.
-- - repositories.archived_reason: why a row stopped being tracked, so that undoing one cause (an
--   unsuspended installation, a repository unarchived on GitHub, a repository added back to an
--   installation) does not resume a row stopped for another.
-- - repositories.webhook_hook_id is unique: a hook's deliveries belong to one repository row.
--
-- Existing rows: an installation id used by exactly one tenant becomes that tenant's installation; one
-- used by several is ambiguous (the flaw this migration closes), so their rows are detached until the
-- verified flow connects them again. Duplicated hook ids are cleared for the same reason. Rows
-- archived before reasons were recorded keep a null reason: nothing resumes them by itself.

set local role dashboard_owner;
set local search_path to app, public;

create table installations (
  tenant_id       uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  installation_id bigint not null check (installation_id > 0),
  created_at      timestamptz not null default now(),
  primary key (tenant_id, installation_id),
  constraint installations_installation_id_key unique (installation_id)
);

alter table repositories
  add column archived_reason text
    check (archived_reason in ('archived_on_github', 'deleted_on_github', 'installation_suspended', 'detached')),
  add constraint repositories_tracked_without_reason check (archived or archived_reason is null);

-- The data below is fixed as the owner, which forced row-level security would otherwise stop; the
-- table stays locked by this transaction until it is forced again.
alter table repositories no force row level security;

insert into installations (tenant_id, installation_id)
select min(tenant_id::text)::uuid, installation_id
from repositories where installation_id is not null
group by installation_id having count(distinct tenant_id) = 1;

update repositories r
set installation_id = null, archived = true, updated_at = now(),
    -- A row archived before keeps its (null) reason: re-attaching must not resume it.
    archived_reason = case when r.archived then r.archived_reason else 'detached' end
where r.installation_id is not null
  and not exists (select 1 from installations i
                  where i.tenant_id = r.tenant_id and i.installation_id = r.installation_id);

update repositories r
set webhook_hook_id = null, webhook_secret_encrypted = null, webhook_secret_previous_encrypted = null
where r.webhook_hook_id in (select webhook_hook_id from repositories where webhook_hook_id is not null
                            group by webhook_hook_id having count(*) > 1);

alter table repositories force row level security;
-- The webhook deletes an uninstalled installation; only the verified flow inserts; nothing updates.
call protect_tenant_table('installations', 'select, insert, delete');

alter table repositories
  add constraint repositories_installation_fk foreign key (tenant_id, installation_id)
    references installations (tenant_id, installation_id) on delete set null (installation_id),
  add constraint repositories_webhook_hook_id_key unique (webhook_hook_id);
drop index repositories_webhook_hook;
drop index repositories_installation;
create index repositories_installation on repositories (tenant_id, installation_id)
  where installation_id is not null;

grant select (tenant_id, installation_id) on installations to dashboard_lookup;
create policy lookup_read on installations for select to dashboard_lookup using (true);

reset role;

set local role dashboard_lookup;

-- The routing of App deliveries about a repository: the rows connected through the delivery's own
-- installation (owned by a tenant in good standing), never every row with that repository id. The
-- caller decides which events still reach an archived row.
create function lookup.repositories_by_installation(p_installation_id bigint, p_provider_repo_id bigint)
returns table (tenant_id uuid, repository_id uuid, archived boolean)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select r.tenant_id, r.id, r.archived
  from app.installations i
  join app.repositories r on r.tenant_id = i.tenant_id and r.installation_id = i.installation_id
  join app.tenants t on t.id = i.tenant_id
  where i.installation_id = p_installation_id
    and r.provider = 'github' and r.provider_repo_id = p_provider_repo_id
    and t.subscription_status in ('trialing', 'active', 'past_due')
$$;

-- The routing of installation events: the tenant that owns the installation, if in good standing.
create or replace function lookup.tenants_by_installation(p_installation_id bigint)
returns table (tenant_id uuid)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select i.tenant_id
  from app.installations i join app.tenants t on t.id = i.tenant_id
  where i.installation_id = p_installation_id
    and t.subscription_status in ('trialing', 'active', 'past_due')
$$;

-- Routing by repository id alone sent one organization's deliveries to every organization that had
-- connected the same id.
drop function lookup.repositories_by_provider_id(text, bigint);

-- The reconciler asks for a token scoped to the hook's repository: it needs the repository's id.
drop function lookup.repository_hooks();
create function lookup.repository_hooks()
returns table (tenant_id uuid, repository_id uuid, full_name text, hook_id bigint, installation_id bigint,
               provider_repo_id bigint)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select r.tenant_id, r.id, r.full_name, r.webhook_hook_id, r.installation_id, r.provider_repo_id
  from app.repositories r join app.tenants t on t.id = r.tenant_id
  where r.webhook_hook_id is not null and r.installation_id is not null and not r.archived
    and r.provider = 'github' and t.subscription_status in ('trialing', 'active', 'past_due')
$$;

revoke all on function lookup.repositories_by_installation(bigint, bigint),
  lookup.tenants_by_installation(bigint), lookup.repository_hooks() from public;
grant execute on function lookup.repositories_by_installation(bigint, bigint),
  lookup.tenants_by_installation(bigint), lookup.repository_hooks() to dashboard_app;

reset role;
