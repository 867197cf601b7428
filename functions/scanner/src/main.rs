//! The scanner function's binary: everything is in [`dashboard_scanner::router`].

use dashboard_scanner::{AppState, router};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(async |db| Ok(router(AppState { db }))).await
}
