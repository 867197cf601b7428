-- Migrations 0015 and 0017 filled the columns they added (tasks.listed_status,
-- commit_task_links.closed_task_at) as dashboard_owner while row-level security on those tables was
-- forced: with no tenant set, the owner saw no row, so on a database that already had rows nothing
-- was filled (task-list tasks a commit had closed could be reopened by the next scan, and old
-- closing links could close their tasks again). Filled here as those migrations meant, with the
-- fence lifted inside this transaction only (the tables stay locked by it until it is forced again).
-- Rows written since then have their values: only the nulls those migrations left are filled.

set local role dashboard_owner;
set local search_path to app, public;

alter table tasks no force row level security;
update tasks set listed_status = status where source = 'tasklist' and listed_status is null;
alter table tasks force row level security;

alter table commit_task_links no force row level security;
alter table commits no force row level security;
update commit_task_links l set closed_task_at = l.updated_at
from commits c
where c.tenant_id = l.tenant_id and c.id = l.commit_id and l.closed_task_at is null
  and l.method = 'explicit' and l.relation = 'closes' and c.on_default_branch;
alter table commits force row level security;
alter table commit_task_links force row level security;

reset role;
