//! The webhook function's binary: everything is in [`dashboard_webhook::router`].

use std::sync::Arc;

use dashboard_shared::{config::Env, jobs::pubsub::transport_from_lookup};
use dashboard_webhook::{AppState, WebhookConfig, router};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(async |db| {
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
