//! The deployed binary, driven as Cloud Run and Lambda drive it.

use sqlx::PgPool;

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_binary_refuses_bypass_roles_serves_probes_and_stops_cleanly(admin: PgPool) {
    dashboard_shared::testing::binary::check_function_binary(
        env!("CARGO_BIN_EXE_dashboard-webhook"),
        &admin,
    )
    .await;
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_purge_command_deletes_what_is_past_its_retention_and_refuses_a_bad_setting(
    admin: PgPool,
) {
    use dashboard_shared::testing;

    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    sqlx::query(
        "insert into app.jobs (tenant_id, queue, kind, status, updated_at)
         values ($1, 'link', 'old', 'done', now() - interval '40 days'), ($1, 'link', 'recent', 'done', now())",
    )
    .bind(tenant)
    .execute(&admin)
    .await
    .unwrap();
    let purge = async |days: &str| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_dashboard-webhook"))
            .arg("purge")
            .env("DATABASE_URL", testing::runtime_url(&admin))
            .env("RETENTION_DAYS", days)
            .env("RUST_LOG", "warn")
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .output()
            .await
            .unwrap()
    };
    let refused = purge("3").await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("RETENTION_DAYS"),
        "{stderr}"
    );
    let purged = purge("30").await;
    assert!(
        purged.status.success(),
        "{}",
        String::from_utf8_lossy(&purged.stderr)
    );
    let kinds: Vec<String> = sqlx::query_scalar("select kind from app.jobs")
        .fetch_all(&admin)
        .await
        .unwrap();
    assert_eq!(kinds, ["recent"]);
}
