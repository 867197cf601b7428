//! The api function's binary: everything is in [`dashboard_api::router`].

use dashboard_api::{ApiConfig, AppState, router};
use dashboard_shared::config::Env;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(async |db| {
        let config = ApiConfig::from_lookup(&Env::process())?;
        Ok(router(AppState::new(db, config)))
    })
    .await
}
