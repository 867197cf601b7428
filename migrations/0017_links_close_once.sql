-- A closing link closes its task once: when its commit is on the default branch and it has not
-- closed it before. A task someone reopens is not closed again by relinking the same commit.

set local role dashboard_owner;
set local search_path to app, public;

alter table commit_task_links add column closed_task_at timestamptz;
-- Links made before this column closed their tasks already, if they were going to.
update commit_task_links l set closed_task_at = l.updated_at
from commits c
where c.tenant_id = l.tenant_id and c.id = l.commit_id
  and l.method = 'explicit' and l.relation = 'closes' and c.on_default_branch;

reset role;
