//! The webhook function's binary: everything is in [`dashboard_webhook::router`].

use dashboard_webhook::{AppState, router};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(|db| router(AppState { db })).await
}
