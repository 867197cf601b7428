-- Roles, schemas and the tenant context. Runs as a role that can create roles (a superuser locally,
-- the Cloud SQL admin user in production); every later object is created as dashboard_owner.
--
--   dashboard_owner   NOLOGIN, owns every table and function in schema app. Subject to FORCE'd RLS.
--   dashboard_app     LOGIN runtime role of every service: owns nothing, no BYPASSRLS, no CREATEROLE,
--                     granted only select/insert/update/delete, and sees one tenant at a time.
--   dashboard_lookup  NOLOGIN, owns the few security-definer look-ups in schema lookup that must see
--                     across tenants (webhook routing, login by email, the resync listing); it may read
--                     only the columns those need.
--
-- Roles are cluster-wide: creating them is idempotent and tolerates a concurrent migration of
-- another database (parallel tests).

do $$
begin
  begin
    create role dashboard_owner nologin nosuperuser nobypassrls nocreaterole nocreatedb;
  exception when duplicate_object or unique_violation then null;
  end;
  begin
    create role dashboard_app login nosuperuser nobypassrls nocreaterole nocreatedb;
  exception when duplicate_object or unique_violation then null;
  end;
  begin
    create role dashboard_lookup nologin nosuperuser nobypassrls nocreaterole nocreatedb;
  exception when duplicate_object or unique_violation then null;
  end;
  -- The migrating user must be able to act as the owners (a no-op for a superuser).
  begin
    grant dashboard_owner, dashboard_lookup to current_user;
  exception when unique_violation then null;
  end;
end
$$;

create schema app authorization dashboard_owner;
create schema lookup authorization dashboard_lookup;
revoke all on schema app, lookup from public;
grant usage on schema app to dashboard_app, dashboard_lookup;
grant usage on schema lookup to dashboard_app;

set local role dashboard_owner;
set local search_path to app, public;

-- The tenant of the current transaction, set with set_config('app.tenant_id', $1, true).
-- Unset (NULL on a fresh connection, '' on a reused one) is one clear error, never a silent match.
-- STABLE and called as (select app.current_tenant_id()) in policies, so it runs once per query.
create function current_tenant_id() returns uuid
language plpgsql stable parallel safe
as $$
declare
  v text := current_setting('app.tenant_id', true);
begin
  if v is null or v = '' then
    raise exception 'tenant context not set (app.tenant_id)'
      using errcode = 'insufficient_privilege',
            hint = 'open a tenant-scoped transaction (Db::tenant) before touching tenant data';
  end if;
  return v::uuid;
end
$$;

-- The signed-in person, for the tables a person owns across organizations (accounts, identities,
-- sessions). Unset means no rows, not an error: sign-in flows run before anyone is known.
create function current_account_id() returns uuid
language sql stable parallel safe
as $$ select nullif(current_setting('app.account_id', true), '')::uuid $$;

revoke all on function current_tenant_id(), current_account_id() from public;
grant execute on function current_tenant_id(), current_account_id() to dashboard_app;

-- Applies the tenant fence to a table whose rows carry tenant_id: RLS enabled and forced (so even
-- the owner is subject to it) and one policy for the runtime role keyed on the row's own tenant_id.
-- Grants the runtime role `privileges` and nothing else (never TRUNCATE or REFERENCES).
create procedure protect_tenant_table(tbl regclass, privileges text default 'select, insert, update, delete')
language plpgsql
as $$
begin
  execute format('alter table %s enable row level security, force row level security', tbl);
  execute format(
    'create policy tenant_isolation on %s for all to dashboard_app
       using (tenant_id = (select app.current_tenant_id()))
       with check (tenant_id = (select app.current_tenant_id()))', tbl);
  execute format('grant %s on %s to dashboard_app', privileges, tbl);
end
$$;
revoke all on procedure protect_tenant_table(regclass, text) from public;

reset role;
