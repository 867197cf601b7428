-- Received webhook deliveries, the job queue (the transactional outbox both transports read) and
-- the audit log.

set local role dashboard_owner;
set local search_path to app, public;

create table webhook_deliveries (
  tenant_id               uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id                      uuid not null default gen_random_uuid(),
  hook_id                 bigint not null,
  delivery_id             text not null check (length(delivery_id) between 1 and 100),
  event                   text not null check (length(event) between 1 and 100),
  action                  text,
  installation_target_type text,
  installation_target_id  bigint,
  user_agent              text,
  headers                 jsonb not null default '{}',
  body                    bytea not null,
  status                  text not null default 'received'
                            check (status in ('received', 'processed', 'ignored', 'failed')),
  received_at             timestamptz not null default now(),
  processed_at            timestamptz,
  primary key (tenant_id, id),
  unique (tenant_id, hook_id, delivery_id)
);
call protect_tenant_table('webhook_deliveries');

create table jobs (
  tenant_id    uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id           uuid not null default gen_random_uuid(),
  queue        text not null check (queue in ('scan', 'link')),
  kind         text not null check (length(kind) between 1 and 100),
  payload      jsonb not null default '{}',
  dedup_key    text,
  status       text not null default 'queued' check (status in ('queued', 'running', 'done', 'dead')),
  attempts     integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 5 check (max_attempts > 0),
  run_at       timestamptz not null default now(),
  locked_at    timestamptz,
  last_error   text,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  primary key (tenant_id, id)
);
-- At most one pending job per (kind, dedup key): enqueueing the same work twice is a no-op.
create unique index jobs_pending_dedup on jobs (tenant_id, kind, dedup_key)
  where dedup_key is not null and status in ('queued', 'running');
create index jobs_ready on jobs (queue, run_at) where status = 'queued';
call protect_tenant_table('jobs');

create table audit_log (
  tenant_id        uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id               uuid not null default gen_random_uuid(),
  -- No foreign key: the record outlives the membership of whoever acted.
  actor_account_id uuid,
  action           text not null check (length(action) between 1 and 100),
  target_type      text,
  target_id        text,
  details          jsonb not null default '{}',
  created_at       timestamptz not null default now(),
  primary key (tenant_id, id)
);
create index audit_log_created on audit_log (tenant_id, created_at);
-- Append-only for the services: no update, no delete.
call protect_tenant_table('audit_log', 'select, insert');

reset role;
