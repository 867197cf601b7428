//! Receives GitHub webhook deliveries: verifies, persists and enqueues them.
//!
//! [`router`] is the whole service (its routes, the health probes, request tracing);
//! [`routes`] is only its own endpoints, for the local runner that mounts every function on one port.
//! `dashboard-webhook purge` ([`purge`]) deletes what is past its retention.

mod authenticate;
pub mod config;
mod events;
mod guard;
mod hooks;
pub mod purge;
pub mod receive;
pub mod reconcile;
pub mod signature;

use std::sync::Arc;

use axum::{Router, routing::post};
use dashboard_shared::{Db, jobs::Transport, serve};

pub use config::{Limits, Retention, WebhookConfig};

/// What the handlers share. Built with [`AppState::new`].
#[derive(Clone, Debug)]
pub struct AppState {
    /// The runtime pool; handlers reach tenant data only through [`Db::tenant`].
    pub db: Db,
    /// The GitHub App's secrets and id.
    pub config: Arc<WebhookConfig>,
    /// How committed jobs reach their consumers.
    pub transport: Transport,
    guard: Arc<guard::Guard>,
}

impl AppState {
    /// The state of one instance, with the default [`Limits`].
    pub fn new(db: Db, config: Arc<WebhookConfig>, transport: Transport) -> Self {
        Self {
            db,
            config,
            transport,
            guard: Arc::new(guard::Guard::new(Limits::default())),
        }
    }

    /// The same state under other limits (its hook cache starts empty).
    #[must_use]
    pub fn with_limits(self, limits: Limits) -> Self {
        Self {
            guard: Arc::new(guard::Guard::new(limits)),
            ..self
        }
    }
}

/// The function's own endpoints, without probes or middleware.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/webhooks/github", post(receive::receive))
        .with_state(state)
}

/// The complete service as deployed: own routes, `/healthz`, `/readyz`, request tracing.
pub fn router(state: AppState) -> Router {
    let db = state.db.clone();
    serve::service(routes(state), db)
}
