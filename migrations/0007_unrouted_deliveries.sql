-- Deliveries that no tenant owns yet (a repository nobody connected, an installation not linked to
-- an organization): acknowledged and kept, so nothing GitHub sent is lost, but outside every tenant.
-- The runtime role has no grant on this table; it records a delivery only through
-- lookup.record_unrouted_delivery, which inserts and returns whether the delivery was new.

set local role dashboard_owner;
set local search_path to app, public;

create table unrouted_deliveries (
  hook_id                  bigint not null,
  delivery_id              text not null check (length(delivery_id) between 1 and 100),
  event                    text not null,
  action                   text,
  installation_id          bigint,
  provider_repo_id         bigint,
  headers                  jsonb not null default '{}',
  body                     bytea not null,
  received_at              timestamptz not null default now(),
  primary key (hook_id, delivery_id)
);
create index unrouted_deliveries_installation on unrouted_deliveries (installation_id)
  where installation_id is not null;
alter table unrouted_deliveries enable row level security, force row level security;
create policy lookup_insert on unrouted_deliveries for insert to dashboard_lookup with check (true);
grant insert on unrouted_deliveries to dashboard_lookup;

reset role;
set local role dashboard_lookup;

create function lookup.record_unrouted_delivery(
  p_hook_id bigint, p_delivery_id text, p_event text, p_action text,
  p_installation_id bigint, p_provider_repo_id bigint, p_headers jsonb, p_body bytea)
returns boolean
language sql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
  with inserted as (
    insert into app.unrouted_deliveries
      (hook_id, delivery_id, event, action, installation_id, provider_repo_id, headers, body)
    values (p_hook_id, p_delivery_id, p_event, p_action, p_installation_id, p_provider_repo_id, p_headers, p_body)
    on conflict do nothing
    returning 1
  )
  select exists (select 1 from inserted)
$$;

revoke all on function lookup.record_unrouted_delivery(bigint, text, text, text, bigint, bigint, jsonb, bytea) from public;
grant execute on function lookup.record_unrouted_delivery(bigint, text, text, text, bigint, bigint, jsonb, bytea) to dashboard_app;

reset role;
