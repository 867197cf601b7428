-- Submodules are projects of type `git-submodule`: where they come from and the commit the
-- superproject pins.

set local role dashboard_owner;
set local search_path to app, public;

alter table projects
  add column url text check (length(url) between 1 and 2048),
  add column pinned_commit text check (pinned_commit ~ '^([0-9a-f]{40}|[0-9a-f]{64})$');

reset role;
