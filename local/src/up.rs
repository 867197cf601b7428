//! `dashboard up`: PostgreSQL (ours, unless `DATABASE_URL` names one), migrations, the demo tenants,
//! then every function's routes on one port until Ctrl-C or SIGTERM.
//!
//! With `DATABASE_URL` unset, the cluster lives in `.dashboard/postgres` of the repository (or
//! `$DASHBOARD_DATA_DIR/postgres`), is reused by the next `up`, and is stopped on exit. The services
//! run as the runtime role `dashboard_app`, whose password is generated anew at every start.

use std::{net::IpAddr, path::PathBuf, sync::Arc};

use anyhow::Context as _;
use axum::Router;
use dashboard_shared::{
    Db,
    db::{MIGRATOR, RUNTIME_ROLE},
    health, serve, telemetry,
};
use dashboard_shared::{github::GitHubApp, jobs::Transport};
use dashboard_webhook::WebhookConfig;
use secrecy::{ExposeSecret as _, SecretString};
use sqlx::{PgPool, postgres::PgConnectOptions};

use crate::{connect_admin, postgres, seed};

/// Options of `dashboard up`.
#[derive(clap::Args)]
pub struct Args {
    /// Port to serve on.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Address to bind; loopback by default, so nothing is exposed beyond this machine.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
}

/// Starts everything and serves until told to stop.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let env = dashboard_shared::config::Env::process();
    let (db, cluster) = match env.get("DATABASE_URL") {
        Some(_) => (external_database(&env).await?, None),
        None => {
            let cluster =
                postgres::Cluster::new(&data_dir().join("postgres"), postgres::Auth::Password)?;
            let db = own_database(&cluster).await?;
            (db, Some(cluster))
        }
    };
    let webhook = WebhookConfig::from_lookup(&env)?;
    db.verify_runtime_role()
        .await
        .context("the runtime role check failed")?;

    let listener = tokio::net::TcpListener::bind((args.host, args.port))
        .await
        .with_context(|| {
            format!(
                "failed to listen on {}:{} (set --port or PORT)",
                args.host, args.port
            )
        })?;
    // The `postgres` transport: the consumers' workers run in this process.
    let github = GitHubApp::from_lookup(&env)?;
    let scan_worker =
        tokio::spawn(dashboard_scanner::worker(scanner_context(&db, github.clone())).run());
    let link_worker =
        tokio::spawn(dashboard_linker::worker(linker_context(&db, github.clone())).run());
    let reconciler = github.map(|app| tokio::spawn(reconcile_hourly(db.clone(), app)));
    tracing::info!("Dashboard is up: http://{}/healthz", listener.local_addr()?);
    let served = serve::serve_on(
        listener,
        all_functions(db, webhook),
        serve::shutdown_signal(),
    )
    .await;
    // A job cut off here rolls back its claim and runs again at the next start.
    link_worker.abort();
    scan_worker.abort();
    if let Some(reconciler) = reconciler {
        reconciler.abort();
    }
    if let Some(cluster) = cluster {
        tracing::info!("stopping PostgreSQL");
        cluster.stop()?;
    }
    served
}

/// Every function's routes, the probes once, request tracing: the local composition, never a
/// second implementation.
pub fn all_functions(db: Db, webhook: WebhookConfig) -> Router {
    let webhook = dashboard_webhook::AppState {
        db: db.clone(),
        config: Arc::new(webhook),
        transport: Transport::Postgres(db.clone()),
    };
    Router::new()
        .merge(dashboard_webhook::routes(webhook))
        .merge(dashboard_api::routes(dashboard_api::AppState {
            db: db.clone(),
        }))
        .merge(dashboard_scanner::routes(scanner_context(&db, None)))
        .merge(dashboard_linker::routes(linker_context(&db, None)))
        .merge(health::router(db))
        .fallback(serve::not_found)
        .layer(telemetry::request_trace_layer())
}

/// The GitHub App is configured: redeliver what GitHub failed to deliver, every hour.
async fn reconcile_hourly(db: Db, app: GitHubApp) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        if let Err(error) = dashboard_webhook::reconcile::reconcile(&db, &app).await {
            tracing::warn!(
                error = format!("{error:#}"),
                "webhook reconciliation failed"
            );
        }
    }
}

fn scanner_context(db: &Db, github: Option<GitHubApp>) -> dashboard_scanner::ScannerContext {
    dashboard_scanner::ScannerContext {
        db: db.clone(),
        transport: Transport::Postgres(db.clone()),
        mirrors: data_dir().join("mirrors"),
        github,
        store: dashboard_scanner::mirror_store::MirrorStore::Local,
    }
}

fn linker_context(db: &Db, github: Option<GitHubApp>) -> dashboard_linker::LinkerContext {
    dashboard_linker::LinkerContext {
        db: db.clone(),
        transport: Transport::Postgres(db.clone()),
        github,
    }
}

fn data_dir() -> PathBuf {
    std::env::var_os("DASHBOARD_DATA_DIR").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(".dashboard")
        },
        PathBuf::from,
    )
}

/// Our own cluster: start it, create the `dashboard` database, migrate, seed, and give the runtime
/// role a fresh password.
async fn own_database(cluster: &postgres::Cluster) -> anyhow::Result<Db> {
    let started = std::time::Instant::now();
    let server = SecretString::from(cluster.start("postgres")?);
    let server_admin = connect_admin(&server).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = 'dashboard')")
            .fetch_one(&server_admin)
            .await?;
    if !exists {
        sqlx::query("create database dashboard")
            .execute(&server_admin)
            .await?;
    }
    server_admin.close().await;
    tracing::info!(
        duration_ms = started.elapsed().as_millis() as u64,
        "PostgreSQL is running"
    );

    let admin = connect_admin(&SecretString::from(cluster.url("dashboard")?)).await?;
    prepare(&admin).await?;
    let password = postgres::random_secret();
    let statement: String =
        sqlx::query_scalar("select format('alter role %I password %L', $1::text, $2::text)")
            .bind(RUNTIME_ROLE)
            .bind(&password)
            .fetch_one(&admin)
            .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&admin)
        .await?;
    let options = admin
        .connect_options()
        .as_ref()
        .clone()
        .username(RUNTIME_ROLE)
        .password(&password);
    admin.close().await;
    Ok(Db::connect_lazy_with(options, 10))
}

/// A server someone else runs: `DATABASE_URL` is the runtime role's; `DATABASE_ADMIN_URL`, if set,
/// is used to migrate and seed first.
async fn external_database(env: &dashboard_shared::config::Env) -> anyhow::Result<Db> {
    if env.get("DATABASE_ADMIN_URL").is_some() {
        let admin = connect_admin(&env.postgres_url("DATABASE_ADMIN_URL")?).await?;
        prepare(&admin).await?;
        admin.close().await;
    } else {
        tracing::warn!(
            "DATABASE_ADMIN_URL is unset: assuming `dashboard migrate` already ran and tenants exist"
        );
    }
    let url = env.postgres_url("DATABASE_URL")?;
    let options: PgConnectOptions = url.expose_secret().parse()?;
    Ok(Db::connect_lazy_with(options, 10))
}

/// Migrations, then the demo tenants, listed in the start-up log.
async fn prepare(admin: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(admin).await.context("migrations failed")?;
    let tenants = seed::seed_demo_tenants(admin)
        .await
        .context("seeding the demo tenants failed")?;
    for tenant in &tenants {
        tracing::info!(tenant.id = %tenant.id, tenant.slug = %tenant.slug, tenant.plan = %tenant.plan, "tenant ready");
    }
    let slugs: Vec<&str> = tenants.iter().map(|t| t.slug.as_str()).collect();
    tracing::info!("seeded tenants: {}", slugs.join(", "));
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;

    async fn call(router: Router, path: &str) -> (u16, String) {
        let request = axum::http::Request::get(path).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
    async fn all_functions_share_one_port_with_one_set_of_probes(admin: PgPool) {
        let router = all_functions(
            dashboard_shared::testing::runtime_db(&admin),
            WebhookConfig::default(),
        );
        assert_eq!(call(router.clone(), "/healthz").await, (200, "ok".into()));
        assert_eq!(call(router.clone(), "/readyz").await, (200, "ready".into()));
        let (status, body) = call(router, "/nothing").await;
        assert_eq!(status, 404);
        assert!(body.contains("\"status\":404"), "{body}");
    }
}
