-- The runtime role may change only what a tenant's admin may change about the tenant: its name and the
-- names it is reached by (slug, subdomain). The plan, its limits and the subscription status are set
-- by provisioning and billing, outside the runtime role, so no request can raise its own limits.

set local role dashboard_owner;
set local search_path to app, public;

revoke update on tenants from dashboard_app;
grant update (name, slug, subdomain, updated_at) on tenants to dashboard_app;

reset role;
