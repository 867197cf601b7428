//! Clones and fetches repositories, detects the projects inside them and imports their tasks.
//!
//! [`router`] is the whole service (the `pubsub` push endpoint, probes, request tracing); [`routes`]
//! is what the local runner mounts (nothing: locally the jobs run in an in-process worker over
//! [`registry`]).

pub mod attempt;
pub mod checkout;
mod credentials;
pub mod detect;
pub mod git;
mod history;
pub mod incremental;
pub mod interrupt;
pub mod job;
pub mod limits;
pub mod mirror;
pub mod mirror_store;
pub mod poll;
pub mod remote;
pub mod schedule;
mod ssh;
pub mod store;
pub mod tasklist;

use std::sync::Arc;

use axum::Router;
use dashboard_shared::{
    jobs::{Queue, Registry, Worker, push},
    serve,
};

pub use job::ScannerContext;

/// The jobs of the `scan` queue this function runs.
pub fn registry() -> Registry<ScannerContext> {
    Registry::new(Queue::Scan)
        .register(job::scan_repository)
        .register(poll::poll_repository)
}

/// The worker of the `postgres` transport (and of the push endpoint).
pub fn worker(ctx: ScannerContext) -> Worker<ScannerContext> {
    Worker::new(ctx.db.clone(), registry(), ctx)
}

/// The function's own endpoints for the local runner, without probes or middleware.
pub fn routes(_ctx: ScannerContext) -> Router {
    Router::new()
}

/// The complete service as deployed: `POST /jobs/push` (Pub/Sub push subscription), probes, tracing.
pub fn router(ctx: ScannerContext) -> Router {
    let db = ctx.db.clone();
    serve::service(
        routes(ctx.clone()).merge(push::router(Arc::new(worker(ctx)))),
        db,
    )
}
