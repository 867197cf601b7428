//! `dashboard up`: PostgreSQL (ours, unless `DATABASE_URL` names one), migrations, the demo tenants,
//! then every function's routes on one port until Ctrl-C or SIGTERM, with the scan and link workers,
//! the poll scheduler and the daily retention purge in-process (each started again should it stop).
//! `--demo` first generates, connects and ingests the demo repositories ([`crate::demo`]).
//!
//! With `DATABASE_URL` unset, the cluster lives in `.dashboard/postgres` of the repository (or
//! `$DASHBOARD_DATA_DIR/postgres`), is reused by the next `up`, and is stopped on exit. The services
//! run as the runtime role `dashboard_app` (see [`crate::system`]).

use std::{net::IpAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::Router;
use dashboard_shared::{
    Db,
    github::GitHubApp,
    health,
    jobs::{self, Transport},
    serve, telemetry,
};
use dashboard_webhook::{Limits, Retention, WebhookConfig};
use secrecy::ExposeSecret as _;

use crate::{demo, system::System};

/// How often `up` looks for `git` repositories whose poll is due.
const POLL_CHECK: Duration = Duration::from_secs(30);
/// How often every repository is synchronised again, whatever it was told.
const RESYNC: Duration = Duration::from_secs(24 * 3600);
/// How long a worker or scheduler that stopped waits before it is started again.
const RESTART: Duration = Duration::from_secs(1);
/// How often what is past its retention is deleted (the first time at start).
const PURGE: Duration = Duration::from_secs(24 * 3600);

/// Options of `dashboard up`.
#[derive(clap::Args)]
pub struct Args {
    /// Port to serve on.
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// Address to bind; loopback by default, so nothing is exposed beyond this machine.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Generate demo repositories for the demo organizations, connect them and ingest them first.
    #[arg(long)]
    demo: bool,
}

/// Starts everything and serves until told to stop.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let system = System::open().await?;
    let env = dashboard_shared::config::Env::process();
    let webhook = WebhookConfig::from_lookup(&env)?;
    let limits = Limits::from_lookup(&env)?;
    let retention = Retention::from_lookup(&env)?;
    let listener = tokio::net::TcpListener::bind((args.host, args.port))
        .await
        .with_context(|| {
            format!(
                "failed to listen on {}:{} (set --port or PORT)",
                args.host, args.port
            )
        })?;
    let address = listener.local_addr()?;
    if args.demo {
        let (email, password) = demo::owner(&system).await?;
        tracing::info!(
            %email,
            password = %password.expose_secret(),
            "demo owner of every demo organization: sign in at http://{address}/signin (or POST /api/v2/auth/password)"
        );
        let connected = demo::install(&system).await?;
        let jobs = system.drain().await?;
        tracing::info!(
            repositories.connected = connected,
            jobs,
            duration_ms = started.elapsed().as_millis() as u64,
            "demo ingested and linked: try `dashboard show --tenant coditect-ai` or `--tenant find-me-a-mechanic`"
        );
    }
    // The `postgres` transport: the consumers' workers run in this process.
    let db = system.db.clone();
    let (scanner, linker) = (system.scanner(), system.linker()?);
    let scan_worker = tokio::spawn(jobs::keep_running("the scan worker", RESTART, move || {
        dashboard_scanner::worker(scanner.clone()).run()
    }));
    let link_worker = tokio::spawn(jobs::keep_running("the link worker", RESTART, move || {
        dashboard_linker::worker(linker.clone()).run()
    }));
    let poller = {
        let db = db.clone();
        tokio::spawn(jobs::keep_running(
            "the poll scheduler",
            RESTART,
            move || poll_when_due(db.clone()),
        ))
    };
    let purger = tokio::spawn(jobs::keep_running("the purge", RESTART, {
        let db = db.clone();
        move || purge_daily(db.clone(), retention.clone())
    }));
    let reconciler = system.github.clone().map(|app| {
        let db = db.clone();
        tokio::spawn(jobs::keep_running("the reconciler", RESTART, move || {
            reconcile_hourly(db.clone(), app.clone())
        }))
    });
    let api = system.api_config(&env, format!("http://{address}"))?;
    tracing::info!("Dashboard is up: http://{address}/healthz");
    tracing::info!("the web dashboard: open http://{address}/ in a browser");
    let served = serve::serve_on(
        listener,
        all_functions(
            dashboard_api::AppState::new(db, api),
            webhook,
            limits,
            system.scanner(),
            system.linker()?,
        ),
        serve::shutdown_signal(),
    )
    .await;
    // A job cut off here rolls back its claim and runs again at the next start. Every task is
    // stopped before the pool closes, so none meets a closed pool.
    let tasks = [link_worker, scan_worker, poller, purger]
        .into_iter()
        .chain(reconciler);
    for task in tasks {
        task.abort();
        let _ = task.await;
    }
    system.close().await?;
    served
}

/// Every function's routes, the probes once, request tracing: the local composition, never a
/// second implementation.
pub fn all_functions(
    api: dashboard_api::AppState,
    webhook: WebhookConfig,
    limits: Limits,
    scanner: dashboard_scanner::ScannerContext,
    linker: dashboard_linker::LinkerContext,
) -> Router {
    let webhook = dashboard_webhook::AppState::new(
        api.db.clone(),
        Arc::new(webhook),
        Transport::Postgres(api.db.clone()),
    )
    .with_limits(limits);
    let db = api.db.clone();
    Router::new()
        .merge(dashboard_webhook::routes(webhook))
        .merge(dashboard_api::routes(api))
        .merge(dashboard_scanner::routes(scanner))
        .merge(dashboard_linker::routes(linker))
        .merge(health::router(db))
        .fallback(serve::not_found)
        .layer(axum::middleware::map_response(
            dashboard_shared::error::problem_for_plain_errors,
        ))
        .layer(telemetry::request_trace_layer())
}

/// Enqueues the polls of `git` repositories as they fall due, and every repository's resync once a
/// day (the first a day after start: `up` has just brought everything in).
async fn poll_when_due(db: Db) {
    let transport = Transport::Postgres(db.clone());
    let mut every = tokio::time::interval(POLL_CHECK);
    let mut last_resync = tokio::time::Instant::now();
    loop {
        every.tick().await;
        if let Err(error) = dashboard_scanner::schedule::enqueue_due(&db, &transport).await {
            tracing::warn!(error = format!("{error:#}"), "scheduling polls failed");
        }
        if last_resync.elapsed() >= RESYNC {
            last_resync = tokio::time::Instant::now();
            if let Err(error) = dashboard_scanner::schedule::enqueue_resync(&db, &transport).await {
                tracing::warn!(error = format!("{error:#}"), "the daily resync failed");
            }
        }
    }
}

/// The GitHub App is configured: redeliver what GitHub failed to deliver, every hour.
async fn reconcile_hourly(db: Db, app: GitHubApp) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
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

/// Deletes what is past its retention, at start and then every day.
async fn purge_daily(db: Db, retention: Retention) {
    let mut every_day = tokio::time::interval(PURGE);
    loop {
        every_day.tick().await;
        if let Err(error) = dashboard_webhook::purge::purge(&db, &retention).await {
            tracing::warn!(error = format!("{error:#}"), "the retention purge failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use sqlx::PgPool;

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
        let db = dashboard_shared::testing::runtime_db(&admin);
        let scanner = dashboard_scanner::ScannerContext {
            db: db.clone(),
            transport: Transport::Postgres(db.clone()),
            mirrors: std::env::temp_dir(),
            github: None,
            store: dashboard_scanner::mirror_store::MirrorStore::Local,
            secrets: None,
            fetch: dashboard_scanner::remote::FetchPolicy::new(
                dashboard_scanner::remote::RemotePolicy::Local,
            ),
            limits: dashboard_scanner::limits::Limits::default(),
        };
        let linker = dashboard_linker::LinkerContext {
            db: db.clone(),
            transport: Transport::Postgres(db.clone()),
            github: None,
            semantic: None,
        };
        let api = dashboard_api::AppState::new(
            db.clone(),
            dashboard_api::ApiConfig::generated("http://127.0.0.1:8080"),
        );
        let router = all_functions(
            api,
            WebhookConfig::default(),
            Limits::default(),
            scanner,
            linker,
        );
        assert_eq!(call(router.clone(), "/healthz").await, (200, "ok".into()));
        assert_eq!(call(router.clone(), "/readyz").await, (200, "ready".into()));
        let (status, body) = call(router, "/nothing").await;
        assert_eq!(status, 404);
        assert!(body.contains("\"status\":404"), "{body}");
    }
}
