//! What the catalog says about schema `app`, and the schema lints that need no data: forced RLS with
//! a policy on every table, nothing that bypasses policies (views, materialized views, definer
//! functions outside `lookup`).

use sqlx::PgPool;

/// Tables a person owns across organizations, fenced by `app.account_id` instead of a tenant.
pub const ACCOUNT_TABLES: [&str; 6] = [
    "accounts",
    "email_tokens",
    "identities",
    "mfa_challenges",
    "recovery_codes",
    "sessions",
];

/// Tables no tenant owns, closed to the runtime role (reached only through definer functions).
pub const SYSTEM_TABLES: [&str; 3] = [
    "oauth_states",
    "organization_deletions",
    "unrouted_deliveries",
];

/// Every table of schema `app` whose rows carry `tenant_id`, sorted.
pub async fn tenant_tables(admin: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "select c.relname::text from pg_class c
         where c.relnamespace = 'app'::regnamespace and c.relkind in ('r', 'p')
           and exists (select 1 from pg_attribute a where a.attrelid = c.oid
                       and a.attname = 'tenant_id' and not a.attisdropped)
         order by 1",
    )
    .fetch_all(admin)
    .await
    .unwrap()
}

/// Columns of `table` that an insert may name (not generated), in order.
pub async fn insertable_columns(admin: &PgPool, table: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select attname::text from pg_attribute
         where attrelid = ('app.' || quote_ident($1))::regclass and attnum > 0
           and not attisdropped and attgenerated = ''
         order by attnum",
    )
    .bind(table)
    .fetch_all(admin)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn every_table_has_forced_row_level_security_and_a_policy(admin: PgPool) {
    let tables: Vec<(String, bool, bool, i64)> = sqlx::query_as(
        "select c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                (select count(*) from pg_policy p where p.polrelid = c.oid)
         from pg_class c where c.relnamespace = 'app'::regnamespace and c.relkind in ('r', 'p')
         order by 1",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    let tenant_tables = tenant_tables(&admin).await;
    assert!(
        tenant_tables.len() >= 13,
        "expected the whole schema, found {tenant_tables:?}"
    );
    for (table, enabled, forced, policies) in &tables {
        assert!(*enabled, "{table}: row-level security is not enabled");
        assert!(
            *forced,
            "{table}: row-level security is not forced (the owner would bypass it)"
        );
        assert!(
            *policies >= 1,
            "{table}: no policy, so the runtime role sees nothing or everything"
        );
        let fenced_by_tenant = tenant_tables.contains(table) || table == "tenants";
        let system = SYSTEM_TABLES.contains(&table.as_str());
        assert!(
            fenced_by_tenant || system || ACCOUNT_TABLES.contains(&table.as_str()),
            "{table}: has neither tenant_id nor a place in ACCOUNT_TABLES or SYSTEM_TABLES; decide how it is fenced"
        );
        if system {
            let (runtime_policies, runtime_grants): (i64, i64) = sqlx::query_as(
                "select (select count(*) from pg_policy p where p.polrelid = ('app.' || $1)::regclass
                           and p.polroles @> array['dashboard_app'::regrole::oid]),
                        (select count(*) from information_schema.role_table_grants
                          where grantee = 'dashboard_app' and table_schema = 'app' and table_name = $1)",
            )
            .bind(table)
            .fetch_one(&admin)
            .await
            .unwrap();
            assert_eq!(
                (runtime_policies, runtime_grants),
                (0, 0),
                "{table} must be closed to the runtime role"
            );
        }
    }
    eprintln!(
        "isolation: {} tables have forced RLS and policies",
        tables.len()
    );
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn tenant_policies_test_the_rows_own_tenant_once_per_query(admin: PgPool) {
    let policies: Vec<(String, String, String)> = sqlx::query_as(
        "select c.relname::text, p.polname::text, pg_get_expr(p.polqual, p.polrelid)
         from pg_policy p join pg_class c on c.oid = p.polrelid
         where c.relnamespace = 'app'::regnamespace
           and p.polroles @> array['dashboard_app'::regrole::oid]",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    for (table, policy, qual) in &policies {
        let key = if table == "tenants" {
            "id"
        } else if ACCOUNT_TABLES.contains(&table.as_str()) {
            if table == "accounts" {
                "id"
            } else {
                "account_id"
            }
        } else {
            "tenant_id"
        };
        let function = if ACCOUNT_TABLES.contains(&table.as_str()) {
            "current_account_id()"
        } else {
            "current_tenant_id()"
        };
        // `(select f())` is an InitPlan: evaluated once per query, and the index on the key is used.
        let expected = format!("({key} = ( SELECT app.{function}");
        assert!(
            qual.starts_with(&expected),
            "{table}.{policy}: `{qual}` should start with `{expected}`"
        );
    }
    assert!(
        policies.len() >= 17,
        "found only {} runtime policies",
        policies.len()
    );
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn no_view_or_definer_function_opens_a_side_door(admin: PgPool) {
    let views: Vec<String> = sqlx::query_scalar(
        "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname in ('app', 'lookup') and (c.relkind = 'm' or (c.relkind = 'v'
           and not coalesce(c.reloptions @> array['security_invoker=true'], false)))",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(
        views.is_empty(),
        "views without security_invoker or materialized views: {views:?}"
    );

    let definers: Vec<(String, String, String, bool, bool)> = sqlx::query_as(
        "select n.nspname::text, p.proname::text, pg_get_userbyid(p.proowner)::text,
                coalesce(array_to_string(p.proconfig, ',') like '%search_path=%', false),
                has_function_privilege('public', p.oid, 'execute')
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where p.prosecdef order by 2",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    let names: Vec<(&str, &str, &str)> = definers
        .iter()
        .map(|d| (d.0.as_str(), d.1.as_str(), d.2.as_str()))
        .collect();
    // Each schema's functions are owned by a NOLOGIN role that may touch only what they need.
    assert_eq!(
        names,
        [
            ("lookup", "account_by_email_token", "dashboard_lookup"),
            ("lookup", "account_by_identity", "dashboard_lookup"),
            ("lookup", "account_by_refresh_token", "dashboard_lookup"),
            ("lookup", "account_by_verified_email", "dashboard_lookup"),
            ("lookup", "account_for_login", "dashboard_lookup"),
            ("lookup", "account_for_sign_in", "dashboard_lookup"),
            ("lookup", "api_token", "dashboard_lookup"),
            ("queue", "finish", "dashboard_queue"),
            ("lookup", "invitation_state", "dashboard_lookup"),
            ("queue", "lock_job", "dashboard_queue"),
            ("queue", "lock_next", "dashboard_queue"),
            ("lookup", "members_of_current_tenant", "dashboard_lookup"),
            ("lookup", "membership", "dashboard_lookup"),
            ("lookup", "memberships_of", "dashboard_lookup"),
            ("lookup", "organizations_requiring_mfa", "dashboard_lookup"),
            ("lookup", "purge_deliveries", "dashboard_lookup"),
            ("queue", "purge_jobs", "dashboard_queue"),
            ("lookup", "purge_sign_in_records", "dashboard_lookup"),
            ("lookup", "purge_unrouted_deliveries", "dashboard_lookup"),
            ("lookup", "record_organization_deletion", "dashboard_lookup"),
            ("lookup", "record_unrouted_delivery", "dashboard_lookup"),
            ("lookup", "remember_oauth_state", "dashboard_lookup"),
            ("lookup", "repositories_by_installation", "dashboard_lookup"),
            ("lookup", "repositories_to_poll", "dashboard_lookup"),
            ("lookup", "repositories_to_resync", "dashboard_lookup"),
            ("lookup", "repository_hook_secrets", "dashboard_lookup"),
            ("lookup", "repository_hooks", "dashboard_lookup"),
            ("queue", "stale_jobs", "dashboard_queue"),
            ("lookup", "stored_deliveries", "dashboard_lookup"),
            ("lookup", "take_oauth_state", "dashboard_lookup"),
            ("lookup", "tasks_matching", "dashboard_lookup"),
            ("lookup", "tenant_by_slug", "dashboard_lookup"),
            ("lookup", "tenants_by_installation", "dashboard_lookup"),
        ],
        "security definer functions are reviewed one by one: add a new one here on purpose"
    );
    for (_, name, _, pins_search_path, public_can_execute) in &definers {
        assert!(pins_search_path, "{name} must pin its search_path");
        assert!(
            !public_can_execute,
            "{name} must not be executable by PUBLIC"
        );
    }
}
