-- What sign-in leaves behind is purged with the rest (`dashboard-webhook purge`, daily): sessions
-- whose family has ended (7 days after its sign-in, so a reused token can no longer matter),
-- MFA steps, emailed links and provider states a day after they expired. The purge role may see and
-- delete only those rows.

set local role dashboard_owner;
set local search_path to app, public;

grant select (id, expires_at), delete on sessions to dashboard_lookup;
create policy lookup_purge on sessions for delete to dashboard_lookup using (expires_at < now());
grant select (id, expires_at), delete on mfa_challenges to dashboard_lookup;
create policy lookup_purge_read on mfa_challenges for select to dashboard_lookup
  using (expires_at < now() - interval '1 day');
create policy lookup_purge on mfa_challenges for delete to dashboard_lookup
  using (expires_at < now() - interval '1 day');
grant select (expires_at), delete on email_tokens to dashboard_lookup;
create policy lookup_purge on email_tokens for delete to dashboard_lookup
  using (expires_at < now() - interval '1 day');

set local role dashboard_lookup;

-- Deletes at most p_limit rows of each kind past its end; returns how many went.
create function lookup.purge_sign_in_records(p_limit integer)
returns bigint
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  with sessions as (
    delete from app.sessions where id in (
      select id from app.sessions where expires_at < now() limit p_limit)
    returning 1
  ), challenges as (
    delete from app.mfa_challenges where id in (
      select id from app.mfa_challenges where expires_at < now() - interval '1 day' limit p_limit)
    returning 1
  ), links as (
    delete from app.email_tokens where token_hash in (
      select token_hash from app.email_tokens
      where expires_at < now() - interval '1 day' limit p_limit)
    returning 1
  ), states as (
    delete from app.oauth_states where state_hash in (
      select state_hash from app.oauth_states where expires_at < now() limit p_limit)
    returning 1
  )
  select (select count(*) from sessions) + (select count(*) from challenges)
       + (select count(*) from links) + (select count(*) from states)
$$;

revoke all on function lookup.purge_sign_in_records(integer) from public;
grant execute on function lookup.purge_sign_in_records(integer) to dashboard_app;

reset role;
