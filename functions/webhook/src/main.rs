//! The webhook function's binary: serves [`dashboard_webhook::router`]; `dashboard-webhook reconcile`
//! runs the reconciler once instead (an hourly Cloud Run job).

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
use dashboard_webhook::{AppState, WebhookConfig, reconcile::reconcile, router};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if std::env::args().nth(1).as_deref() == Some("reconcile") {
        return exit_code(reconcile_once().await);
    }
    serve::run(async |db| {
        let env = Env::process();
        let config = Arc::new(WebhookConfig::from_lookup(&env)?);
        let transport = transport_from_lookup(&env, &db).await?;
        Ok(router(AppState {
            db,
            config,
            transport,
        }))
    })
    .await
}

async fn reconcile_once() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    let db = Db::connect_lazy(&config.database_url, config.database_max_connections)?;
    db.verify_runtime_role()
        .await
        .context("the database role check failed")?;
    let app = GitHubApp::from_lookup(&Env::process())?.context(
        "set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY: the reconciler reads deliveries as the App",
    )?;
    reconcile(&db, &app).await?;
    Ok(())
}
