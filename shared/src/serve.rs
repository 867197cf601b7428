//! Runs a router where the process finds itself: under `lambda_http` when
//! `AWS_LAMBDA_RUNTIME_API` is set, otherwise on `0.0.0.0:$PORT` with graceful shutdown on SIGTERM
//! or Ctrl-C (in-flight requests get up to ten seconds, Cloud Run's grace period).

use std::{net::Ipv4Addr, process::ExitCode, time::Duration};

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;

use crate::{Config, db::Db, error::Error, health, telemetry};

/// How long in-flight requests may run after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `router` until the process is told to stop. Functions never know which runtime they are on.
pub async fn serve(router: Router, port: u16) -> anyhow::Result<()> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        tracing::info!("serving under the AWS Lambda runtime");
        return lambda_http::run(router)
            .await
            .map_err(|error| anyhow::anyhow!("lambda runtime failed: {error}"));
    }
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
        .await
        .with_context(|| format!("failed to listen on port {port}"))?;
    serve_on(listener, router, shutdown_signal()).await
}

/// Serves on an open listener until `shutdown` completes, then drains for at most
/// [`SHUTDOWN_GRACE`].
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let address = listener.local_addr()?;
    tracing::info!(%address, "listening");
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    // Each request carries its peer's address (`ConnectInfo`): the sign-in throttle keys on it.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutdown requested; draining in-flight requests");
        let _ = stopping_tx.send(());
    });
    let deadline = async {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result.context("server failed")?,
        () = deadline => tracing::warn!("requests still running after the grace period; stopping anyway"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGTERM (Cloud Run, `kill`) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// A function's deployable router: its own `routes`, the `/healthz` and `/readyz` probes, a
/// problem+json 404 for anything else, every error in that one shape, and the request-tracing
/// layer.
pub fn service(routes: Router, db: Db) -> Router {
    routes
        .merge(health::router(db))
        .fallback(not_found)
        .layer(axum::middleware::map_response(
            crate::error::problem_for_plain_errors,
        ))
        .layer(telemetry::request_trace_layer())
}

/// The answer for a path no route matches.
pub async fn not_found() -> Error {
    Error::NotFound
}

/// The whole `main` of a function: read [`Config`], start telemetry, build the lazy pool, refuse a
/// role that could bypass row-level security, then serve the router `build` makes (it may read its
/// own settings and fail, naming the variable). A failure is
/// printed as one readable line and the process exits with status 1.
pub async fn run(build: impl AsyncFnOnce(Db) -> anyhow::Result<Router>) -> ExitCode {
    exit_code(try_run(build).await)
}

/// Turns a `main` result into an exit status, printing the error chain (never a backtrace) on
/// failure.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn try_run(build: impl AsyncFnOnce(Db) -> anyhow::Result<Router>) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    let db = Db::connect_lazy(&config.database_url, config.database_max_connections)?;
    db.verify_runtime_role()
        .await
        .context("refusing to start: the database role check failed")?;
    let router = build(db.clone()).await?;
    let served = serve(router, config.port).await;
    db.close().await;
    served
}
