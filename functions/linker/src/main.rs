//! The linker function's binary: everything is in [`dashboard_linker::router`].

use dashboard_linker::{LinkerContext, router};
use dashboard_shared::{config::Env, github::GitHubApp, jobs::pubsub::transport_from_lookup};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    dashboard_shared::serve::run(async |db| {
        let env = Env::process();
        let transport = transport_from_lookup(&env, &db).await?;
        let github = GitHubApp::from_lookup(&env)?;
        Ok(router(LinkerContext {
            db,
            transport,
            github,
            semantic: dashboard_linker::semantic::Model::from_lookup(&env)?,
        }))
    })
    .await
}
