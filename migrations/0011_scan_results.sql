-- What a scan records beyond the first schema: projects and tasks that vanished from the repository
-- are marked removed (kept, so links and history survive), a project's manifest problems, and a
-- tasklist task's place (section headings and parent task).

set local role dashboard_owner;
set local search_path to app, public;

alter table projects
  add column removed_at timestamptz,
  add column problems text[] not null default '{}',
  add column scanned_commit text check (scanned_commit ~ '^([0-9a-f]{40}|[0-9a-f]{64})$');

alter table tasks
  add column removed_at timestamptz,
  add column section text[] not null default '{}',
  add column parent_key text;

reset role;
