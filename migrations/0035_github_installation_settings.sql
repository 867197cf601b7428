-- What the verified install flow records with a GitHub App installation it connects to an
-- organization (the API's `/github/install` → GitHub → `/github/setup` → `/github/authorized`):
--
-- - follow_selection: the installation's own selection on GitHub decides which repositories are
--   connected (the webhook function connects the ones added to it, detaches the removed ones);
--   otherwise the organization chooses them (`PUT …/github/installations/{id}/repositories`).
-- - account_login: the GitHub account (user or organization) the App is installed on, as GitHub
--   named it when it was connected; for display only (ids route, names change).
-- - connected_by: the member who connected it (null once they leave).
--
-- The runtime role may change the setting and nothing else of a row.

set local role dashboard_owner;
set local search_path to app, public;

alter table installations
  add column follow_selection boolean not null default false,
  add column account_login text check (length(account_login) between 1 and 100),
  add column connected_by uuid,
  add constraint installations_connected_by_fk foreign key (tenant_id, connected_by)
    references memberships (tenant_id, account_id) on delete set null (connected_by);

grant update (follow_selection) on installations to dashboard_app;

reset role;
