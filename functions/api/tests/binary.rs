//! The deployed binary, driven as Cloud Run and Lambda drive it.

use sqlx::PgPool;

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_binary_refuses_bypass_roles_serves_probes_and_stops_cleanly(admin: PgPool) {
    dashboard_shared::testing::binary::check_function_binary(
        env!("CARGO_BIN_EXE_dashboard-api"),
        &admin,
    )
    .await;
}
