-- Each repository's totals, kept by statement-level triggers instead of counted per request: the
-- repository list counted projects, tasks, commits and links in every repository of its page, which
-- with 1,000,000 commits and 300,000 links took 4.7 s a page (scripts/bench-api). A trigger sees
-- every write path (scanner, linker, API, COPY) and adds one aggregated delta per statement.
-- - project_count: projects not removed;
-- - task_count / tasks_done: tasks not removed, of which done;
-- - commit_count: commits stored;
-- - link_count: links in force (`active`) from its commits.

set local role dashboard_owner;
set local search_path to app, public;

alter table repositories
  add column project_count bigint not null default 0,
  add column task_count bigint not null default 0,
  add column tasks_done bigint not null default 0,
  add column commit_count bigint not null default 0,
  add column link_count bigint not null default 0;

-- Adds `delta` (rows of tenant_id, repository_id, projects, tasks, done, commits, links) to the
-- repositories' totals.
create function add_repository_counts(delta jsonb)
returns void
language sql
set search_path = app, pg_catalog, pg_temp
as $$
  update repositories r
     set project_count = r.project_count + d.projects,
         task_count = r.task_count + d.tasks,
         tasks_done = r.tasks_done + d.done,
         commit_count = r.commit_count + d.commits,
         link_count = r.link_count + d.links
    from jsonb_to_recordset(delta)
           as d (tenant_id uuid, repository_id uuid, projects bigint, tasks bigint, done bigint,
                 commits bigint, links bigint)
   where r.tenant_id = d.tenant_id and r.id = d.repository_id
     and (d.projects, d.tasks, d.done, d.commits, d.links) <> (0, 0, 0, 0, 0)
$$;

create function count_projects() returns trigger
language plpgsql
set search_path = app, pg_catalog, pg_temp
as $$
declare
  delta jsonb;
begin
  if tg_op = 'INSERT' then
    select jsonb_agg(x) into delta from (
      select tenant_id, repository_id, count(*) filter (where removed_at is null) as projects,
             0 as tasks, 0 as done, 0 as commits, 0 as links
      from new_rows group by 1, 2) x;
  elsif tg_op = 'DELETE' then
    select jsonb_agg(x) into delta from (
      select tenant_id, repository_id, -count(*) filter (where removed_at is null) as projects,
             0 as tasks, 0 as done, 0 as commits, 0 as links
      from old_rows group by 1, 2) x;
  else
    select jsonb_agg(x) into delta from (
      select tenant_id, repository_id, sum(s * (removed_at is null)::int) as projects,
             0 as tasks, 0 as done, 0 as commits, 0 as links
      from (select tenant_id, repository_id, removed_at, 1 as s from new_rows
            union all
            select tenant_id, repository_id, removed_at, -1 from old_rows) rows
      group by 1, 2) x;
  end if;
  if delta is not null then
    perform add_repository_counts(delta);
  end if;
  return null;
end
$$;

create function count_tasks() returns trigger
language plpgsql
set search_path = app, pg_catalog, pg_temp
as $$
declare
  delta jsonb;
begin
  if tg_op = 'INSERT' then
    select jsonb_agg(x) into delta from (
      select tenant_id, repository_id, 0 as projects,
             count(*) filter (where removed_at is null) as tasks,
             count(*) filter (where removed_at is null and status = 'done') as done,
             0 as commits, 0 as links
      from new_rows group by 1, 2) x;
  elsif tg_op = 'DELETE' then
    select jsonb_agg(x) into delta from (
      select tenant_id, repository_id, 0 as projects,
             -count(*) filter (where removed_at is null) as tasks,
             -count(*) filter (where removed_at is null and status = 'done') as done,
             0 as commits, 0 as links
      from old_rows group by 1, 2) x;
  else
    select jsonb_agg(x) into delta from (
      select tenant_id, repository_id, 0 as projects,
             sum(s * (removed_at is null)::int) as tasks,
             sum(s * (removed_at is null and status = 'done')::int) as done,
             0 as commits, 0 as links
      from (select tenant_id, repository_id, removed_at, status, 1 as s from new_rows
            union all
            select tenant_id, repository_id, removed_at, status, -1 from old_rows) rows
      group by 1, 2) x;
  end if;
  if delta is not null then
    perform add_repository_counts(delta);
  end if;
  return null;
end
$$;

create function count_commits() returns trigger
language plpgsql
set search_path = app, pg_catalog, pg_temp
as $$
declare
  delta jsonb;
begin
  if tg_op = 'INSERT' then
    select jsonb_agg(x) into delta from (
      select tenant_id, repository_id, 0 as projects, 0 as tasks, 0 as done,
             count(*) as commits, 0 as links
      from new_rows group by 1, 2) x;
  else
    select jsonb_agg(x) into delta from (
      select tenant_id, repository_id, 0 as projects, 0 as tasks, 0 as done,
             -count(*) as commits, 0 as links
      from old_rows group by 1, 2) x;
  end if;
  if delta is not null then
    perform add_repository_counts(delta);
  end if;
  return null;
end
$$;

-- A link's repository is its commit's. Links deleted with their commit (a repository
-- disconnected) find no commit, and their repository is going too.
create function count_links() returns trigger
language plpgsql
set search_path = app, pg_catalog, pg_temp
as $$
declare
  delta jsonb;
begin
  if tg_op = 'INSERT' then
    select jsonb_agg(x) into delta from (
      select c.tenant_id, c.repository_id, 0 as projects, 0 as tasks, 0 as done, 0 as commits,
             count(*) filter (where l.state = 'active') as links
      from new_rows l join commits c on c.tenant_id = l.tenant_id and c.id = l.commit_id
      group by 1, 2) x;
  elsif tg_op = 'DELETE' then
    select jsonb_agg(x) into delta from (
      select c.tenant_id, c.repository_id, 0 as projects, 0 as tasks, 0 as done, 0 as commits,
             -count(*) filter (where l.state = 'active') as links
      from old_rows l join commits c on c.tenant_id = l.tenant_id and c.id = l.commit_id
      group by 1, 2) x;
  else
    select jsonb_agg(x) into delta from (
      select c.tenant_id, c.repository_id, 0 as projects, 0 as tasks, 0 as done, 0 as commits,
             sum(l.s * (l.state = 'active')::int) as links
      from (select tenant_id, commit_id, state, 1 as s from new_rows
            union all
            select tenant_id, commit_id, state, -1 from old_rows) l
      join commits c on c.tenant_id = l.tenant_id and c.id = l.commit_id
      group by 1, 2) x;
  end if;
  if delta is not null then
    perform add_repository_counts(delta);
  end if;
  return null;
end
$$;

create trigger projects_count_insert after insert on projects
  referencing new table as new_rows for each statement execute function count_projects();
create trigger projects_count_update after update on projects
  referencing new table as new_rows old table as old_rows
  for each statement execute function count_projects();
create trigger projects_count_delete after delete on projects
  referencing old table as old_rows for each statement execute function count_projects();

create trigger tasks_count_insert after insert on tasks
  referencing new table as new_rows for each statement execute function count_tasks();
create trigger tasks_count_update after update on tasks
  referencing new table as new_rows old table as old_rows
  for each statement execute function count_tasks();
create trigger tasks_count_delete after delete on tasks
  referencing old table as old_rows for each statement execute function count_tasks();

create trigger commits_count_insert after insert on commits
  referencing new table as new_rows for each statement execute function count_commits();
create trigger commits_count_delete after delete on commits
  referencing old table as old_rows for each statement execute function count_commits();

create trigger links_count_insert after insert on commit_task_links
  referencing new table as new_rows for each statement execute function count_links();
create trigger links_count_update after update on commit_task_links
  referencing new table as new_rows old table as old_rows
  for each statement execute function count_links();
create trigger links_count_delete after delete on commit_task_links
  referencing old table as old_rows for each statement execute function count_links();

revoke all on function add_repository_counts(jsonb), count_projects(), count_tasks(),
  count_commits(), count_links() from public;
-- The triggers run with the writer's rights (row-level security included): the runtime role calls
-- the helper, which changes nothing it could not change itself.
grant execute on function add_repository_counts(jsonb) to dashboard_app;

-- The totals of the rows there are now. Row-level security is forced on these tables: the owner
-- sees the rows only with the fence lifted, inside this transaction (as in 0023).
alter table repositories no force row level security;
alter table projects no force row level security;
alter table tasks no force row level security;
alter table commits no force row level security;
alter table commit_task_links no force row level security;
update repositories r set
  project_count = (select count(*) from projects p
                   where p.tenant_id = r.tenant_id and p.repository_id = r.id and p.removed_at is null),
  task_count = (select count(*) from tasks t
                where t.tenant_id = r.tenant_id and t.repository_id = r.id and t.removed_at is null),
  tasks_done = (select count(*) from tasks t
                where t.tenant_id = r.tenant_id and t.repository_id = r.id and t.removed_at is null
                  and t.status = 'done'),
  commit_count = (select count(*) from commits c
                  where c.tenant_id = r.tenant_id and c.repository_id = r.id),
  link_count = (select count(*) from commit_task_links l
                join commits c on c.tenant_id = l.tenant_id and c.id = l.commit_id
                where c.tenant_id = r.tenant_id and c.repository_id = r.id and l.state = 'active');
alter table repositories force row level security;
alter table projects force row level security;
alter table tasks force row level security;
alter table commits force row level security;
alter table commit_task_links force row level security;

reset role;
