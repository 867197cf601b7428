-- Organizations: the member list (each member's address and name live in `accounts`, which a
-- tenant transaction cannot read) and the state of an invitation link, so that accepting an
-- expired, revoked or used one says which.

set local role dashboard_owner;
set local search_path to app, public;

grant select (display_name) on accounts to dashboard_lookup;
grant select (created_at) on memberships to dashboard_lookup;

set local role dashboard_lookup;

-- The members of the organization of the calling transaction (`app.tenant_id`): never another
-- organization's, and nothing but the address and name of each account.
create function lookup.members_of_current_tenant()
returns table (account_id uuid, email text, display_name text, role text, joined_at timestamptz)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select m.account_id, a.email, a.display_name, m.role, m.created_at
  from app.memberships m join app.accounts a on a.id = m.account_id
  where m.tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
  order by m.created_at, m.account_id
$$;

-- An invitation link, whatever its state: its organization, id and whether it was accepted,
-- revoked or has expired (the invitation itself is read and consumed inside its organization).
create function lookup.invitation_state(p_hash bytea)
returns table (tenant_id uuid, invitation_id uuid, accepted boolean, revoked boolean,
               expired boolean)
language sql stable security definer
set search_path = pg_catalog, pg_temp
as $$
  select i.tenant_id, i.id, i.accepted_at is not null, i.revoked_at is not null,
         i.expires_at <= now()
  from app.invitations i
  where i.token_hash = p_hash
$$;

revoke all on function lookup.members_of_current_tenant(), lookup.invitation_state(bytea)
  from public;
grant execute on function lookup.members_of_current_tenant(), lookup.invitation_state(bytea)
  to dashboard_app;

reset role;
