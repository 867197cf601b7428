-- Consuming a sign-in's state (`delete ... where state_hash = $1 and expires_at > now()`) and
-- forgetting expired ones read these two columns, which a delete's condition needs the select
-- privilege for. The rows hold only hashes and expiry times.

set local role dashboard_owner;
set local search_path to app, public;

grant select (state_hash, expires_at) on oauth_states to dashboard_app;

reset role;
