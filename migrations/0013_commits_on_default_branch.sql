-- Whether a commit has reached the repository's default branch: a closing reference closes its task
-- only then, and a commit first pushed to a feature branch is linked again when it is merged.

set local role dashboard_owner;
set local search_path to app, public;

alter table commits add column on_default_branch boolean not null default false;

reset role;
