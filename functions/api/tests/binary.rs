//! The deployed binary, driven as Cloud Run and Lambda drive it.

use dashboard_api::auth::keys::SigningKeys;
use sqlx::PgPool;

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_binary_refuses_bypass_roles_serves_probes_and_stops_cleanly(admin: PgPool) {
    let keys = SigningKeys::generate_pem();
    dashboard_shared::testing::binary::check_function_binary_with(
        env!("CARGO_BIN_EXE_dashboard-api"),
        &admin,
        &[
            ("PUBLIC_URL", "https://dashboard.example.com"),
            // Never connected to: the probes send no mail.
            ("SMTP_URL", "smtp://127.0.0.1:2525"),
            ("JWT_SIGNING_KEYS", &keys),
            (
                "SECRETS_ENCRYPTION_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
        ],
    )
    .await;
}
