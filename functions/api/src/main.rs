//! The api function's binary: everything is in [`dashboard_api::router`].

use dashboard_api::{AppState, router};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(async |db| Ok(router(AppState { db }))).await
}
