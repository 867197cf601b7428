-- lookup.tenant_by_slug is PL/pgSQL like the other per-request look-ups (0024): a security-definer
-- SQL function is planned on every call, a PL/pgSQL one once per connection. Same signature, same
-- answer.

set local role dashboard_lookup;

create or replace function lookup.tenant_by_slug(p_slug text)
returns uuid
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return (select t.id from app.tenants t where t.slug = p_slug);
end
$$;

reset role;
