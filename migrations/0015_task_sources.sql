-- What a task's source last said, so that the source and the linker do not undo each other:
-- - listed_status: the status a task list gave at the last scan. A scan changes a task-list task's
--   status only when the list's checkbox changed, so a task a commit closed stays done while the
--   file still says `[ ]`.
-- - merge_commit_sha, base_branch: where a merged pull request landed, so that the references in
--   its title and body reach the commit that merged it.

set local role dashboard_owner;
set local search_path to app, public;

alter table tasks
  add column listed_status text check (listed_status in ('open', 'in_progress', 'done', 'cancelled')),
  add column merge_commit_sha text check (merge_commit_sha ~ '^([0-9a-f]{40}|[0-9a-f]{64})$'),
  add column base_branch text check (length(base_branch) between 1 and 255);
update tasks set listed_status = status where source = 'tasklist';
create index tasks_merge_commit on tasks (tenant_id, repository_id, merge_commit_sha)
  where merge_commit_sha is not null;

reset role;
