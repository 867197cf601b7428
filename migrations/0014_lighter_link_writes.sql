-- commit_task_links is the busiest table to write (a relink writes a row per link and suggestion).
-- Its tenant is already fixed by the composite keys to commits and tasks, which reference tenants
-- themselves (and cascade on a tenant's deletion), so the direct key to tenants only cost a check
-- per row. Likewise the index for the key to the person who made a manual link only needs the rows
-- that name one: most links are made by the linker.

set local role dashboard_owner;
set local search_path to app, public;

alter table commit_task_links drop constraint commit_task_links_tenant_id_fkey;
drop index commit_task_links_created_by;
create index commit_task_links_created_by on commit_task_links (tenant_id, created_by)
  where created_by is not null;

reset role;
