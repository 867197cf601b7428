//! Helpers for tests (feature `test-support`): from the administrative pool that `#[sqlx::test]`
//! hands a test (a fresh, migrated database), build the runtime-role [`Db`] the services use, and
//! create tenants the way provisioning does.
//!
//! The runtime role logs in without a password on the throwaway cluster of `scripts/test` (trust on
//! loopback); against another server, set `DATABASE_APP_PASSWORD` to its password.

use sqlx::{Connection as _, PgConnection, PgPool, postgres::PgConnectOptions};

use crate::{
    db::{Db, RUNTIME_ROLE},
    domain::TenantId,
};

/// Runs `work` with an administrative pool on a new, empty database of `DATABASE_URL`'s server and
/// drops the database afterwards, whatever `work` returned: what `#[sqlx::test]` does for tests,
/// for the benchmarks (examples).
pub async fn with_scratch_database<T, F, Fut>(work: F) -> anyhow::Result<T>
where
    F: FnOnce(PgPool) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let url = std::env::var("DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("set DATABASE_URL (a role that may create databases)"))?;
    let server: PgConnectOptions = url.parse()?;
    let name = format!("dashboard_bench_{}", uuid::Uuid::new_v4().simple());
    let mut control = PgConnection::connect_with(&server).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut control)
        .await?;
    let admin = PgPool::connect_with(server.database(&name)).await?;
    let result = work(admin.clone()).await;
    admin.close().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "drop database {name} with (force)"
    )))
    .execute(&mut control)
    .await?;
    result
}

/// Connect options for the runtime role on the same database as `admin`.
pub fn runtime_options(admin: &PgPool) -> PgConnectOptions {
    let options = admin
        .connect_options()
        .as_ref()
        .clone()
        .username(RUNTIME_ROLE);
    match std::env::var("DATABASE_APP_PASSWORD") {
        Ok(password) => options.password(&password),
        Err(_) => options.password(""),
    }
}

/// The services' pool on the test database, logged in as the runtime role.
pub fn runtime_db(admin: &PgPool) -> Db {
    Db::connect_lazy_with(runtime_options(admin), 4)
}

/// Creates a tenant as provisioning does (outside the runtime role) and returns its id.
pub async fn create_tenant(admin: &PgPool, slug: &str) -> TenantId {
    let id: uuid::Uuid =
        sqlx::query_scalar("insert into app.tenants (slug, name) values ($1, $1) returning id")
            .bind(slug)
            .fetch_one(admin)
            .await
            .expect("failed to create a test tenant");
    TenantId::from_uuid(id)
}

/// Records that `tenant` owns GitHub App installation `installation_id`, as the verified
/// installation flow does (idempotent for the same tenant; another tenant's installation is refused).
pub async fn create_installation(admin: &PgPool, tenant: TenantId, installation_id: i64) {
    sqlx::query(
        "insert into app.installations (tenant_id, installation_id) values ($1, $2)
         on conflict (tenant_id, installation_id) do nothing",
    )
    .bind(tenant)
    .bind(installation_id)
    .execute(admin)
    .await
    .expect("failed to create a test installation");
}

pub mod binary;
pub mod lambda;
pub mod pubsub;

/// The runtime role's URL on the test database (what a deployed function gets as `DATABASE_URL`).
pub fn runtime_url(admin: &PgPool) -> String {
    use sqlx::ConnectOptions as _;
    runtime_options(admin).to_url_lossy().to_string()
}

/// The administrative (superuser) URL of the test database: what `DATABASE_URL` must never be.
pub fn admin_url(admin: &PgPool) -> String {
    use sqlx::ConnectOptions as _;
    admin.connect_options().to_url_lossy().to_string()
}
