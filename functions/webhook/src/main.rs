//! The webhook function's binary: everything is in [`dashboard_webhook::router`].

use std::sync::Arc;

use dashboard_shared::config::Env;
use dashboard_webhook::{AppState, WebhookConfig, router};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(|db| {
        let config = Arc::new(WebhookConfig::from_lookup(&Env::process())?);
        Ok(router(AppState { db, config }))
    })
    .await
}
