//! Receives GitHub webhook deliveries: verifies, persists and enqueues them.
//!
//! [`router`] is the whole service (its routes, the health probes, request tracing);
//! [`routes`] is only its own endpoints, for the local runner that mounts every function on one port.

mod authenticate;
pub mod config;
mod events;
pub mod receive;
pub mod reconcile;
pub mod signature;

use std::sync::Arc;

use axum::{Router, extract::DefaultBodyLimit, routing::post};
use dashboard_shared::{Db, jobs::Transport, serve};

pub use config::WebhookConfig;

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The runtime pool; handlers reach tenant data only through [`Db::tenant`].
    pub db: Db,
    /// The GitHub App's secrets and id.
    pub config: Arc<WebhookConfig>,
    /// How committed jobs reach their consumers.
    pub transport: Transport,
}

/// The function's own endpoints, without probes or middleware.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route(
            "/webhooks/github",
            post(receive::receive).layer(DefaultBodyLimit::max(receive::MAX_BODY_BYTES)),
        )
        .with_state(state)
}

/// The complete service as deployed: own routes, `/healthz`, `/readyz`, request tracing.
pub fn router(state: AppState) -> Router {
    let db = state.db.clone();
    serve::service(routes(state), db)
}
