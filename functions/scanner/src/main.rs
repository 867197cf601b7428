//! The scanner function's binary: everything is in [`dashboard_scanner::router`].

use dashboard_scanner::{AppState, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    dashboard_shared::serve::run(|db| router(AppState { db })).await
}
