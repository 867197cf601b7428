//! The webhook function's binary: serves [`dashboard_webhook::router`]; `dashboard-webhook reconcile`
//! runs the reconciler once instead (an hourly Cloud Run job), `dashboard-webhook purge` the
//! retention (a daily one).

use std::sync::Arc;

use anyhow::Context as _;
use dashboard_shared::{
    Config, Db,
    config::Env,
    github::GitHubApp,
    jobs::pubsub::transport_from_lookup,
    serve::{self, exit_code},
    telemetry,
};
use dashboard_webhook::{
    AppState, Limits, Retention, WebhookConfig, purge::purge, reconcile::reconcile, router,
};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("reconcile") => return exit_code(reconcile_once().await),
        Some("purge") => return exit_code(purge_once().await),
        _ => {}
    }
    serve::run(async |db| {
        let env = Env::process();
        let config = Arc::new(WebhookConfig::from_lookup(&env)?);
        let limits = Limits::from_lookup(&env)?;
        let transport = transport_from_lookup(&env, &db).await?;
        Ok(router(
            AppState::new(db, config, transport).with_limits(limits),
        ))
    })
    .await
}

/// Telemetry and a checked runtime pool, for the one-shot jobs.
async fn connect() -> anyhow::Result<Db> {
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    let db = Db::connect_lazy(&config.database_url, config.database_max_connections)?;
    db.verify_runtime_role()
        .await
        .context("the database role check failed")?;
    Ok(db)
}

async fn purge_once() -> anyhow::Result<()> {
    let retention = Retention::from_lookup(&Env::process())?;
    purge(&connect().await?, &retention).await?;
    Ok(())
}

async fn reconcile_once() -> anyhow::Result<()> {
    let db = connect().await?;
    let app = GitHubApp::from_lookup(&Env::process())?.context(
        "set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY: the reconciler reads deliveries as the App",
    )?;
    reconcile(&db, &app).await?;
    Ok(())
}
