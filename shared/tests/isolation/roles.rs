//! Roles: the runtime role owns nothing and cannot lift the fence (no BYPASSRLS, no owner
//! membership, no DDL, no TRUNCATE); the start-up check refuses a role that could; the cross-tenant
//! look-ups return only ids and read only the columns they were granted.

use dashboard_shared::{Db, testing};
use sqlx::{AssertSqlSafe, PgPool, postgres::PgConnectOptions};

use crate::seed::{SHARED_GITHUB_REPO_ID, installation_of, seed_tenant};

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn the_runtime_role_has_no_power_over_the_fence(admin: PgPool) {
    let db = testing::runtime_db(&admin);
    let mut conn = db.without_tenant().await.unwrap();
    let (superuser, bypass, createrole, createdb, owner_member, lookup_member): (
        bool,
        bool,
        bool,
        bool,
        bool,
        bool,
    ) = sqlx::query_as(
        "select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb,
                    pg_has_role(current_user, 'dashboard_owner', 'member'),
                    pg_has_role(current_user, 'dashboard_lookup', 'member')
             from pg_roles where rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(!(superuser || bypass || createrole || createdb || owner_member || lookup_member));

    let owned: i64 = sqlx::query_scalar(
        "select count(*) from pg_class where relowner = (select oid from pg_roles where rolname = current_user)",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(owned, 0, "the runtime role owns relations");

    let attempts = [
        "alter table app.projects disable row level security",
        "alter table app.projects no force row level security",
        "drop policy tenant_isolation on app.projects",
        "create policy open_door on app.projects for all using (true)",
        "set role dashboard_owner",
        "set role dashboard_lookup",
        "set role dashboard_queue",
        "set session authorization dashboard_owner",
        "truncate app.projects",
        "create table app.side_door (id int)",
        "grant dashboard_owner to dashboard_app",
        "alter role dashboard_app bypassrls",
    ];
    for statement in attempts {
        let error = sqlx::raw_sql(AssertSqlSafe(statement))
            .execute(&mut *conn)
            .await
            .expect_err(&format!("the runtime role could run `{statement}`"));
        let code = crate::sqlstate(&error);
        assert_eq!(
            code.as_deref(),
            Some("42501"),
            "`{statement}` failed, but not for lack of privilege: {error}"
        );
    }

    let wide_grants: Vec<(String, String)> = sqlx::query_as(
        "select table_name::text, privilege_type::text from information_schema.role_table_grants
         where grantee = 'dashboard_app' and privilege_type not in ('SELECT', 'INSERT', 'UPDATE', 'DELETE')",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(
        wide_grants.is_empty(),
        "grants beyond select/insert/update/delete: {wide_grants:?}"
    );
    eprintln!("isolation: {} escape attempts refused", attempts.len());
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn the_service_refuses_a_role_that_could_bypass_row_level_security(admin: PgPool) {
    // The administrative role of the tests is a superuser: exactly what DATABASE_URL must not be.
    let options: PgConnectOptions = admin.connect_options().as_ref().clone();
    let error = Db::connect_lazy_with(options, 1)
        .verify_runtime_role()
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("could bypass row-level security") && message.contains("SUPERUSER"),
        "{message}"
    );

    testing::runtime_db(&admin)
        .verify_runtime_role()
        .await
        .expect("the runtime role is accepted");
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn the_service_refuses_a_member_of_the_owner_lookup_or_queue_role(admin: PgPool) {
    for privileged in ["dashboard_owner", "dashboard_lookup", "dashboard_queue"] {
        // Roles are cluster-wide: a name no parallel test uses, dropped at the end.
        let name = format!("probe_{}", uuid::Uuid::new_v4().simple());
        sqlx::raw_sql(AssertSqlSafe(format!(
            "create role {name} login; grant {privileged} to {name}"
        )))
        .execute(&admin)
        .await
        .unwrap();
        let options = testing::runtime_options(&admin).username(&name);
        let result = Db::connect_lazy_with(options, 1)
            .verify_runtime_role()
            .await;
        sqlx::raw_sql(AssertSqlSafe(format!("drop role {name}")))
            .execute(&admin)
            .await
            .unwrap();
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains(&format!("member of {privileged}")),
            "{privileged}: {message}"
        );
    }
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn the_runtime_role_may_update_only_the_tenant_columns_an_admin_may_change(admin: PgPool) {
    let updatable: Vec<String> = sqlx::query_scalar(
        "select column_name::text from information_schema.column_privileges
         where grantee = 'dashboard_app' and table_schema = 'app' and table_name = 'tenants'
           and privilege_type = 'UPDATE'
         order by 1",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        updatable,
        ["name", "require_mfa", "slug", "subdomain", "updated_at"]
    );
    let installation_grants: Vec<String> = sqlx::query_scalar(
        "select privilege_type::text from information_schema.role_table_grants
         where grantee = 'dashboard_app' and table_schema = 'app' and table_name = 'installations'
         order by 1",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        installation_grants,
        ["DELETE", "INSERT", "SELECT"],
        "installations are recorded by the verified flow and forgotten, never changed"
    );

    let a = seed_tenant(&admin, "tenant-a").await;
    let db = testing::runtime_db(&admin);
    for column in [
        "plan = 'enterprise'",
        "max_users = 1000",
        "max_repositories = 1000",
        "max_projects = 100000",
        "subscription_status = 'active'",
    ] {
        let mut tx = db.tenant(a.tenant).await.unwrap();
        let error = sqlx::query(AssertSqlSafe(format!("update app.tenants set {column}")))
            .execute(&mut *tx)
            .await
            .expect_err(column);
        assert_eq!(
            crate::sqlstate(&error).as_deref(),
            Some("42501"),
            "{column}"
        );
    }
    let mut tx = db.tenant(a.tenant).await.unwrap();
    let renamed =
        sqlx::query("update app.tenants set name = 'Acme', slug = 'acme', updated_at = now()")
            .execute(&mut *tx)
            .await
            .unwrap();
    assert_eq!(
        renamed.rows_affected(),
        1,
        "an admin renames the organization"
    );
}

#[sqlx::test(migrator = "crate::MIGRATOR")]
async fn cross_tenant_lookups_return_only_what_their_step_needs(admin: PgPool) {
    let a = seed_tenant(&admin, "tenant-a").await;
    let b = seed_tenant(&admin, "tenant-b").await;
    let db = testing::runtime_db(&admin);
    let mut conn = db.without_tenant().await.unwrap();

    // Both connected the same repository id, each through its own installation: a delivery from
    // A's installation routes to A alone.
    let routed: Vec<(uuid::Uuid, uuid::Uuid, bool)> =
        sqlx::query_as("select * from lookup.repositories_by_installation($1, $2)")
            .bind(installation_of("tenant-a"))
            .bind(SHARED_GITHUB_REPO_ID)
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let tenants: Vec<uuid::Uuid> = routed.iter().map(|r| r.0).collect();
    assert_eq!(
        tenants,
        [a.tenant.as_uuid()],
        "only the installation's owner"
    );
    let owner: Vec<uuid::Uuid> =
        sqlx::query_scalar("select tenant_id from lookup.tenants_by_installation($1)")
            .bind(installation_of("tenant-b"))
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    assert_eq!(owner, [b.tenant.as_uuid()]);

    let columns: Vec<String> = sqlx::query_scalar(
        "select unnest(proargnames) from pg_proc where proname = 'repositories_by_installation'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        columns,
        [
            "p_installation_id",
            "p_provider_repo_id",
            "tenant_id",
            "repository_id",
            "archived"
        ]
    );

    let login: Vec<(uuid::Uuid, Option<String>)> = sqlx::query_as(
        "select account_id, password_hash from lookup.account_for_login('OWNER@tenant-b.example')",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert_eq!(login, [(b.account, Some("argon2id$fake".to_owned()))]);

    // The lookup role itself can read only the columns it was granted, never content.
    let mut tx = admin.begin().await.unwrap();
    sqlx::query("set local role dashboard_lookup")
        .execute(&mut *tx)
        .await
        .unwrap();
    let content = sqlx::query("select full_name, clone_url from app.repositories")
        .fetch_all(&mut *tx)
        .await;
    let code = crate::sqlstate(&content.unwrap_err());
    assert_eq!(code.as_deref(), Some("42501"));
}
