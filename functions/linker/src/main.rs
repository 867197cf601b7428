//! The linker function's binary: everything is in [`dashboard_linker::router`].

use dashboard_linker::{AppState, router};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(|db| Ok(router(AppState { db }))).await
}
