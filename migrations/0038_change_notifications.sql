-- Live pages: every statement that changes an organization's repositories (their sync health and
-- totals, which the totals triggers of 0037 keep for every project, task, commit and link write)
-- or links (a suggestion confirmed or rejected) tells the api instances on the channel
-- `dashboard_changes`, once per organization and table: `{"tenant": "<uuid>", "table": "<name>"}`.
-- Each instance LISTENs once and forwards the organization's changes to its own viewers' event
-- streams; the event names the table only, and the page fetches its rows through its own
-- authorized request, so nothing of another organization travels. PostgreSQL delivers
-- notifications at commit and folds identical ones of one transaction into one.

set local role dashboard_owner;
set local search_path to app, public;

create function notify_change() returns trigger
language plpgsql
set search_path = app, pg_catalog, pg_temp
as $$
begin
  perform pg_notify('dashboard_changes',
                    json_build_object('tenant', t.tenant_id, 'table', tg_table_name)::text)
     from (select distinct tenant_id from changed_rows) t;
  return null;
end
$$;

create trigger repositories_notify_insert after insert on repositories
  referencing new table as changed_rows for each statement execute function notify_change();
create trigger repositories_notify_update after update on repositories
  referencing new table as changed_rows for each statement execute function notify_change();
create trigger repositories_notify_delete after delete on repositories
  referencing old table as changed_rows for each statement execute function notify_change();
create trigger links_notify_insert after insert on commit_task_links
  referencing new table as changed_rows for each statement execute function notify_change();
create trigger links_notify_update after update on commit_task_links
  referencing new table as changed_rows for each statement execute function notify_change();

reset role;
