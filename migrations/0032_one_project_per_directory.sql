-- One directory is one project (issue 14): a `tasklist.md` next to a `package.json` is that project's
-- task list, not a second project. `types` lists every ecosystem found in the directory, strongest
-- first, and `type` stays as its first (the primary one); the unique key becomes (repository, path).
--
-- Existing rows are merged here, not left to a rescan: the new key cannot exist while a directory has
-- two rows, and a push that touches no manifest only moves TODO/FIXME counts, so the next scan may
-- never rewrite them. In each directory the row of the strongest type survives (a live row before a
-- removed one); it takes the types, manifests and problems of the directory's live rows (of all its
-- rows when none is live) in the scanner's precedence, and the first name, version, description,
-- workspace, URL and pinned commit one of them states, as the scanner now does. Tasks and
-- sub-projects of the other rows move to it before they are deleted, so no task (nor its links,
-- which hang on tasks) is lost, and its task counts are counted again.

set local role dashboard_owner;
set local search_path to app, public;

alter table projects add column types text[];

-- The data below is fixed as the owner, which forced row-level security would otherwise stop; the
-- tables stay locked by this transaction until it is forced again.
alter table projects no force row level security;
alter table tasks no force row level security;

-- Each directory as it becomes one row (ordinary tables, dropped below: no TEMP privilege needed).
create table merged_projects as
with ranked as (
  select p.*,
         -- The scanner's precedence (functions/scanner/src/detect/mod.rs `precedence`).
         coalesce(array_position(array['cargo', 'npm', 'python', 'go', 'maven', 'gradle', 'dotnet',
                                       'composer', 'gem', 'mix', 'dart', 'swift', 'cmake', 'helm',
                                       'backstage', 'tasklist', 'generic', 'git-submodule'], p.type),
                  1000) as rank,
         bool_or(p.removed_at is null) over (partition by p.tenant_id, p.repository_id, p.path) as live
  from projects p
),
kept as (
  select * from ranked where (removed_at is null) = live
),
files as (
  select k.tenant_id, k.repository_id, k.path, array_agg(m order by k.rank, k.type, o) as manifests
  from kept k, unnest(k.manifests) with ordinality as u(m, o)
  group by 1, 2, 3
),
troubles as (
  select k.tenant_id, k.repository_id, k.path, array_agg(m order by k.rank, k.type, o) as problems
  from kept k, unnest(k.problems) with ordinality as u(m, o)
  group by 1, 2, 3
)
select k.tenant_id, k.repository_id, k.path,
       (array_agg(k.id order by k.rank, k.type))[1] as survivor,
       array_agg(k.type order by k.rank, k.type) as types,
       (array_agg(k.name order by k.rank, k.type) filter (where k.name is not null))[1] as name,
       (array_agg(k.version order by k.rank, k.type) filter (where k.version is not null))[1] as version,
       (array_agg(k.description order by k.rank, k.type) filter (where k.description is not null))[1] as description,
       (array_agg(k.member_of order by k.rank, k.type) filter (where k.member_of is not null))[1] as member_of,
       (array_agg(k.url order by k.rank, k.type) filter (where k.url is not null))[1] as url,
       (array_agg(k.pinned_commit order by k.rank, k.type) filter (where k.pinned_commit is not null))[1] as pinned_commit,
       coalesce(f.manifests, '{}') as manifests,
       coalesce(t.problems, '{}') as problems,
       max(k.todo_count) as todo_count,
       max(k.fixme_count) as fixme_count,
       case when bool_and(k.live) then null else max(k.removed_at) end as removed_at,
       min(k.created_at) as created_at,
       max(k.updated_at) as updated_at
from kept k
left join files f using (tenant_id, repository_id, path)
left join troubles t using (tenant_id, repository_id, path)
group by k.tenant_id, k.repository_id, k.path, f.manifests, t.problems;

-- Every row of a directory, and the row it becomes.
create table merged_ids as
select p.tenant_id, p.id, m.survivor
from projects p
join merged_projects m using (tenant_id, repository_id, path)
where p.id <> m.survivor;

update tasks t set project_id = i.survivor
from merged_ids i
where t.tenant_id = i.tenant_id and t.project_id = i.id;

update projects p set parent_id = i.survivor
from merged_ids i
where p.tenant_id = i.tenant_id and p.parent_id = i.id;

delete from projects p
using merged_ids i
where p.tenant_id = i.tenant_id and p.id = i.id;

update projects p set
  type = m.types[1], types = m.types, name = m.name, version = m.version,
  description = m.description, member_of = m.member_of, url = m.url,
  pinned_commit = m.pinned_commit, manifests = m.manifests, problems = m.problems,
  todo_count = m.todo_count, fixme_count = m.fixme_count, removed_at = m.removed_at,
  created_at = m.created_at, updated_at = m.updated_at,
  task_count = (select count(*) from tasks t
                where t.tenant_id = p.tenant_id and t.project_id = p.id and t.removed_at is null),
  tasks_done = (select count(*) from tasks t
                where t.tenant_id = p.tenant_id and t.project_id = p.id and t.removed_at is null
                  and t.status = 'done')
from merged_projects m
where p.tenant_id = m.tenant_id and p.id = m.survivor;

drop table merged_ids, merged_projects;

alter table projects
  alter column types set not null,
  add constraint projects_types_primary check (cardinality(types) between 1 and 32 and types[1] = type),
  drop constraint projects_tenant_id_repository_id_path_type_key,
  add constraint projects_tenant_id_repository_id_path_key unique (tenant_id, repository_id, path);

alter table tasks force row level security;
alter table projects force row level security;

reset role;
