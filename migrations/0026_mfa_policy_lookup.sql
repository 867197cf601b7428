-- Turning off two-factor sign-in: refused while an organization the person belongs to requires it.
-- The person's own transaction cannot read other organizations' rows, so this narrow look-up names
-- those organizations (their slugs, for the error message) and nothing else, for the person acting
-- only (app.account_id).

set local role dashboard_lookup;

create function lookup.organizations_requiring_mfa(p_account_id uuid)
returns setof text
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select t.slug
  from app.memberships m join app.tenants t on t.id = m.tenant_id
  where m.account_id = p_account_id and t.require_mfa
    and p_account_id = nullif(current_setting('app.account_id', true), '')::uuid
  order by t.slug
$$;

revoke all on function lookup.organizations_requiring_mfa(uuid) from public;
grant execute on function lookup.organizations_requiring_mfa(uuid) to dashboard_app;

reset role;
