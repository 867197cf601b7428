//! Ingests commits, issues and pull requests and links commits to tasks.
//!
//! [`router`] is the whole service (the `pubsub` push endpoint, the sweeper, the health probes,
//! request tracing); [`routes`] is only what the local runner mounts (nothing yet: locally the jobs
//! run in an in-process worker over [`registry`]).

mod delivery;
pub mod embed;
pub mod evaluate;
pub mod ingest;
pub mod issues;
pub mod link;
pub mod references;
pub mod semantic;
pub mod similarity;

use std::{sync::Arc, time::Duration};

use axum::{Router, extract::State, http::StatusCode, routing::post};
use dashboard_shared::{
    Db, Error,
    github::GitHubApp,
    jobs::{Queue, Registry, Transport, Worker, push},
    serve,
};

/// What the linker's jobs need.
#[derive(Clone, Debug)]
pub struct LinkerContext {
    /// The runtime pool; jobs reach tenant data only through [`Db::tenant`].
    pub db: Db,
    /// How the jobs they enqueue reach their consumers.
    pub transport: Transport,
    /// The GitHub App, to complete truncated or forced pushes (`None`: not configured).
    pub github: Option<GitHubApp>,
    /// The sentence-embedding model, to link by meaning too (`None`: by references and words only).
    pub semantic: Option<Arc<semantic::Model>>,
}

/// The jobs of the `link` queue this function runs.
pub fn registry() -> Registry<LinkerContext> {
    Registry::new(Queue::Link)
        .register(ingest::ingest_push)
        .register(issues::ingest_issue)
        .register(link::link_commits)
        .register(link::relink_repository)
        .register(link::relink_organization)
        .register(embed::embed_texts)
}

/// The in-process worker of the `postgres` transport (and of the push endpoint).
pub fn worker(ctx: LinkerContext) -> Worker<LinkerContext> {
    Worker::new(ctx.db.clone(), registry(), ctx)
}

/// The function's own endpoints for the local runner, without probes or middleware.
pub fn routes(_ctx: LinkerContext) -> Router {
    Router::new()
}

/// The complete service as deployed: `POST /jobs/push` (Pub/Sub push subscription), `POST
/// /jobs/sweep` (Cloud Scheduler: re-publish jobs whose message was lost), probes, tracing.
pub fn router(ctx: LinkerContext) -> Router {
    let db = ctx.db.clone();
    let sweeper = Router::new()
        .route("/jobs/sweep", post(sweep))
        .with_state(ctx.clone());
    let own = routes(ctx.clone())
        .merge(push::router(Arc::new(worker(ctx))))
        .merge(sweeper);
    serve::service(own, db)
}

/// How long a queued job may wait before its message counts as lost.
const SWEEP_AFTER: Duration = Duration::from_secs(600);

async fn sweep(State(ctx): State<LinkerContext>) -> Result<StatusCode, Error> {
    let republished = ctx
        .transport
        .sweep(&ctx.db, SWEEP_AFTER)
        .await
        .map_err(Error::Unavailable)?;
    tracing::info!(jobs.republished = republished, "sweep finished");
    Ok(StatusCode::NO_CONTENT)
}
