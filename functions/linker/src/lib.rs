//! Ingests commits, issues and pull requests and links commits to tasks.
//!
//! [`router`] is the whole service (its routes, the health probes, request tracing);
//! [`routes`] is only its own endpoints, for the local runner that mounts every function on one port.
//! [`registry`] is the jobs it runs, for whichever queue transport carries them.

pub mod ingest;

use axum::Router;
use dashboard_shared::{
    Db,
    jobs::{Queue, Registry},
    serve,
};

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The runtime pool; handlers reach tenant data only through [`Db::tenant`].
    pub db: Db,
}

/// The jobs of the `link` queue this function runs.
pub fn registry() -> Registry<Db> {
    Registry::new(Queue::Link).register(ingest::ingest_push)
}

/// The function's own endpoints, without probes or middleware.
pub fn routes(state: AppState) -> Router {
    Router::new().with_state(state)
}

/// The complete service as deployed: own routes, `/healthz`, `/readyz`, request tracing.
pub fn router(state: AppState) -> Router {
    let db = state.db.clone();
    serve::service(routes(state), db)
}
