-- Organizations (tenants) and the people in them: accounts, their sign-in identities and sessions
-- (owned by the person, across organizations), memberships with roles, API tokens, invitations, teams.

set local role dashboard_owner;
set local search_path to app, public;

create table tenants (
  id                  uuid primary key default gen_random_uuid(),
  slug                text not null unique
                        check (length(slug) between 2 and 63 and slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  name                text not null check (length(name) between 1 and 200),
  subdomain           text unique
                        check (length(subdomain) between 2 and 63 and subdomain ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  plan                text not null default 'free'
                        check (plan in ('free', 'team', 'business', 'enterprise')),
  max_users           integer not null default 5 check (max_users > 0),
  max_repositories    integer not null default 3 check (max_repositories > 0),
  max_projects        integer not null default 100 check (max_projects > 0),
  subscription_status text not null default 'active'
                        check (subscription_status in ('trialing', 'active', 'past_due', 'canceled', 'suspended')),
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now()
);
-- A tenant sees and edits only itself; creating one is a provisioning step, not a runtime grant.
alter table tenants enable row level security, force row level security;
create policy tenant_isolation on tenants for all to dashboard_app
  using (id = (select current_tenant_id()))
  with check (id = (select current_tenant_id()));
grant select, update on tenants to dashboard_app;

create table accounts (
  id                   uuid primary key default gen_random_uuid(),
  email                text not null check (length(email) <= 320 and email ~ '^[^@\s]+@[^@\s]+$'),
  -- Compared with = (leakproof) so the unique index serves look-ups under RLS.
  email_normalized     text generated always as (lower(email)) stored unique,
  display_name         text check (length(display_name) <= 200),
  password_hash        text,
  mfa_secret_encrypted bytea,
  mfa_enabled          boolean not null default false,
  email_verified_at    timestamptz,
  created_at           timestamptz not null default now(),
  disabled_at          timestamptz
);

create table identities (
  provider    text not null check (provider in ('github', 'google')),
  subject     text not null check (length(subject) between 1 and 255),
  account_id  uuid not null references accounts (id) on delete cascade,
  email       text,
  created_at  timestamptz not null default now(),
  primary key (provider, subject)
);
create index identities_account on identities (account_id);

create table sessions (
  id                 uuid primary key default gen_random_uuid(),
  account_id         uuid not null references accounts (id) on delete cascade,
  refresh_token_hash bytea not null unique,
  family_id          uuid not null,
  user_agent         text,
  created_at         timestamptz not null default now(),
  last_used_at       timestamptz,
  expires_at         timestamptz not null,
  revoked_at         timestamptz
);
create index sessions_account on sessions (account_id);

-- A person's own rows: visible only while app.account_id names them.
alter table accounts enable row level security, force row level security;
create policy account_self on accounts for all to dashboard_app
  using (id = (select current_account_id()))
  with check (id = (select current_account_id()));
grant select, insert, update on accounts to dashboard_app;

alter table identities enable row level security, force row level security;
create policy account_self on identities for all to dashboard_app
  using (account_id = (select current_account_id()))
  with check (account_id = (select current_account_id()));
grant select, insert, update, delete on identities to dashboard_app;

alter table sessions enable row level security, force row level security;
create policy account_self on sessions for all to dashboard_app
  using (account_id = (select current_account_id()))
  with check (account_id = (select current_account_id()));
grant select, insert, update, delete on sessions to dashboard_app;

create table memberships (
  tenant_id  uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  account_id uuid not null references accounts (id) on delete cascade,
  role       text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  created_at timestamptz not null default now(),
  primary key (tenant_id, account_id)
);
create index memberships_account on memberships (account_id);
call protect_tenant_table('memberships');

create table api_tokens (
  tenant_id    uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id           uuid not null default gen_random_uuid(),
  name         text not null check (length(name) between 1 and 200),
  token_hash   bytea not null unique,
  role         text not null check (role in ('admin', 'member', 'viewer')),
  created_by   uuid,
  created_at   timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at   timestamptz,
  revoked_at   timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, created_by) references memberships (tenant_id, account_id)
    on delete set null (created_by)
);
create index api_tokens_created_by on api_tokens (tenant_id, created_by);
call protect_tenant_table('api_tokens');

create table invitations (
  tenant_id   uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id          uuid not null default gen_random_uuid(),
  email       text not null check (length(email) <= 320 and email ~ '^[^@\s]+@[^@\s]+$'),
  role        text not null check (role in ('owner', 'admin', 'member', 'viewer')),
  token_hash  bytea not null unique,
  invited_by  uuid,
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  accepted_at timestamptz,
  revoked_at  timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, invited_by) references memberships (tenant_id, account_id)
    on delete set null (invited_by)
);
create index invitations_invited_by on invitations (tenant_id, invited_by);
call protect_tenant_table('invitations');

create table teams (
  tenant_id  uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  id         uuid not null default gen_random_uuid(),
  name       text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  unique (tenant_id, name)
);
call protect_tenant_table('teams');

create table team_members (
  tenant_id  uuid not null default current_tenant_id() references tenants (id) on delete cascade,
  team_id    uuid not null,
  account_id uuid not null,
  primary key (tenant_id, team_id, account_id),
  foreign key (tenant_id, team_id) references teams (tenant_id, id) on delete cascade,
  foreign key (tenant_id, account_id) references memberships (tenant_id, account_id) on delete cascade
);
create index team_members_account on team_members (tenant_id, account_id);
call protect_tenant_table('team_members');

reset role;
