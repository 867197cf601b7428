-- An organization's audit log goes with it when it is deleted, so the deletion itself is kept here,
-- outside any tenant: which organization, by whom, when (for the operators; nobody's row, closed to
-- the runtime role, written only through lookup.record_organization_deletion).

set local role dashboard_owner;
set local search_path to app, public;

create table organization_deletions (
  organization_id uuid not null,
  slug       text not null,
  deleted_by uuid not null,
  deleted_at timestamptz not null default now()
);
alter table organization_deletions enable row level security, force row level security;
grant insert on organization_deletions to dashboard_lookup;
create policy lookup_insert on organization_deletions for insert to dashboard_lookup with check (true);

set local role dashboard_lookup;

-- Records the deletion of the organization the caller's transaction is bound to (app.tenant_id),
-- by the person acting (app.account_id): nothing else can be written through it.
create function lookup.record_organization_deletion()
returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
  v_account uuid := nullif(current_setting('app.account_id', true), '')::uuid;
begin
  if v_tenant is null or v_account is null then
    raise exception 'tenant and account context required' using errcode = 'insufficient_privilege';
  end if;
  insert into app.organization_deletions (organization_id, slug, deleted_by)
  select t.id, t.slug, v_account from app.tenants t where t.id = v_tenant;
end
$$;

revoke all on function lookup.record_organization_deletion() from public;
grant execute on function lookup.record_organization_deletion() to dashboard_app;

reset role;
