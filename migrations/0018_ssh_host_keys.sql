-- SSH host keys pinned per repository: the server's keys (`known_hosts` lines) as met on the first
-- fetch, then checked strictly by every fetch on every instance (a fresh Cloud Run instance has no
-- known_hosts of its own and must not trust whatever key it meets). Public keys, not secrets.

set local role dashboard_owner;
set local search_path to app, public;

alter table repositories
  add column ssh_host_keys text check (length(ssh_host_keys) between 1 and 65536);

reset role;
