-- What a tenant tracks: connected repositories, the projects found in them (a tree), their tasks,
-- the commits pushed to them and the links between commits and tasks.

set local role dashboard_owner;
set local search_path to app, public;

create table repositories (
  tenant_id                         uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id                                uuid not null default gen_random_uuid(),
  provider                          text not null check (provider in ('github', 'git')),
  -- GitHub's numeric ids: names change (renames, transfers), ids do not.
  provider_repo_id                  bigint,
  installation_id                   bigint,
  full_name                         text not null check (length(full_name) between 1 and 300),
  clone_url                         text not null check (length(clone_url) between 1 and 2048),
  default_branch                    text,
  webhook_hook_id                   bigint,
  webhook_secret_encrypted          bytea,
  webhook_secret_previous_encrypted bytea,
  last_synced_commit                text check (last_synced_commit ~ '^([0-9a-f]{40}|[0-9a-f]{64})$'),
  last_scanned_at                   timestamptz,
  archived                          boolean not null default false,
  created_at                        timestamptz not null default now(),
  updated_at                        timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, provider, provider_repo_id),
  check (provider <> 'github' or provider_repo_id is not null)
);
-- Webhook routing looks repositories up by GitHub's ids across tenants (lookup schema).
create index repositories_provider_repo on repositories (provider, provider_repo_id);
create index repositories_installation on repositories (installation_id) where installation_id is not null;
call protect_tenant_table('repositories');

create table projects (
  tenant_id     uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id            uuid not null default gen_random_uuid(),
  repository_id uuid not null,
  parent_id     uuid,
  path          text not null,
  type          text not null check (length(type) between 1 and 64),
  name          text,
  version       text,
  description   text,
  manifests     text[] not null default '{}',
  member_of     text,
  tags          text[] not null default '{}',
  task_count    integer not null default 0 check (task_count >= 0),
  tasks_done    integer not null default 0 check (tasks_done >= 0),
  todo_count    integer not null default 0 check (todo_count >= 0),
  fixme_count   integer not null default 0 check (fixme_count >= 0),
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, repository_id, path, type),
  foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade,
  foreign key (tenant_id, parent_id) references projects (tenant_id, id) on delete set null (parent_id)
);
create index projects_parent on projects (tenant_id, parent_id);
call protect_tenant_table('projects');

create table tasks (
  tenant_id         uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id                uuid not null default gen_random_uuid(),
  repository_id     uuid not null,
  project_id        uuid,
  source            text not null check (source in ('tasklist', 'github_issue', 'github_pr')),
  -- TASK-AUTH-12 for tasklist tasks, the issue or pull request number for GitHub's.
  external_key      text not null check (length(external_key) between 1 and 200),
  title             text not null,
  body              text,
  status            text not null default 'open' check (status in ('open', 'in_progress', 'done', 'cancelled')),
  labels            text[] not null default '{}',
  url               text,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  closed_at         timestamptz,
  source_updated_at timestamptz,
  primary key (tenant_id, id),
  unique (tenant_id, repository_id, source, external_key),
  foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade,
  foreign key (tenant_id, project_id) references projects (tenant_id, id) on delete set null (project_id)
);
create index tasks_project on tasks (tenant_id, project_id);
call protect_tenant_table('tasks');

create table commits (
  tenant_id     uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id            uuid not null default gen_random_uuid(),
  repository_id uuid not null,
  sha           text not null check (sha ~ '^([0-9a-f]{40}|[0-9a-f]{64})$'),
  message       text not null,
  author_name   text,
  author_email  text,
  authored_at   timestamptz,
  committed_at  timestamptz,
  changed_paths text[] not null default '{}',
  created_at    timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, repository_id, sha),
  foreign key (tenant_id, repository_id) references repositories (tenant_id, id) on delete cascade
);
create index commits_committed on commits (tenant_id, repository_id, committed_at);
call protect_tenant_table('commits');

create table commit_task_links (
  tenant_id  uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  commit_id  uuid not null,
  task_id    uuid not null,
  method     text not null check (method in ('explicit', 'similarity', 'manual')),
  relation   text not null default 'references' check (relation in ('closes', 'references')),
  confidence real not null check (confidence >= 0 and confidence <= 1),
  -- 'rejected' remembers a link a person removed, so relinking does not bring it back.
  state      text not null default 'active' check (state in ('active', 'suggested', 'rejected')),
  evidence   jsonb not null default '{}',
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, commit_id, task_id),
  foreign key (tenant_id, commit_id) references commits (tenant_id, id) on delete cascade,
  foreign key (tenant_id, task_id) references tasks (tenant_id, id) on delete cascade,
  foreign key (tenant_id, created_by) references memberships (tenant_id, account_id) on delete set null (created_by)
);
create index commit_task_links_task on commit_task_links (tenant_id, task_id);
create index commit_task_links_created_by on commit_task_links (tenant_id, created_by);
call protect_tenant_table('commit_task_links');

reset role;
