//! The linker function's binary: everything is in [`dashboard_linker::router`].

use dashboard_linker::{LinkerContext, router};
use dashboard_shared::{config::Env, jobs::pubsub::transport_from_lookup};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(async |db| {
        let transport = transport_from_lookup(&Env::process(), &db).await?;
        Ok(router(LinkerContext { db, transport }))
    })
    .await
}
