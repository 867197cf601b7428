//! The api function's binary: everything is in [`dashboard_api::router`].

use dashboard_api::{ApiConfig, AppState, router};
use dashboard_shared::{config::Env, jobs::pubsub::transport_from_lookup};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(async |db| {
        let env = Env::process();
        let config = ApiConfig::from_lookup(&env)?;
        let transport = transport_from_lookup(&env, &db).await?;
        Ok(router(AppState::new(db, config).with_transport(transport)))
    })
    .await
}
