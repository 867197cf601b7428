//! Receives GitHub webhook deliveries: verifies, persists and enqueues them.
//!
//! [`router`] is the whole service (its routes, the health probes, request tracing);
//! [`routes`] is only its own endpoints, for the local runner that mounts every function on one port.
//! `dashboard-webhook purge` ([`purge`]) deletes what is past its retention.

mod authenticate;
pub mod config;
mod events;
mod hooks;
pub mod purge;
pub mod receive;
pub mod reconcile;
pub mod signature;

use std::sync::Arc;

use axum::{Router, routing::post};
use dashboard_shared::{Db, Error, jobs::Transport, serve};
use tokio::sync::{Semaphore, SemaphorePermit};

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
    guard: Arc<Guard>,
}

/// What holds the route against requests nobody signed (see [`Limits`]).
#[derive(Debug)]
struct Guard {
    limits: Limits,
    unverified: Semaphore,
    hooks: hooks::HookCache,
}

impl AppState {
    /// The state of one instance, with the default [`Limits`].
    pub fn new(db: Db, config: Arc<WebhookConfig>, transport: Transport) -> Self {
        Self {
            db,
            config,
            transport,
            guard: Arc::new(Guard::new(Limits::default())),
        }
    }

    /// The same state under other limits (its hook cache starts empty).
    #[must_use]
    pub fn with_limits(self, limits: Limits) -> Self {
        Self {
            guard: Arc::new(Guard::new(limits)),
            ..self
        }
    }
}

impl Guard {
    fn new(limits: Limits) -> Self {
        Self {
            unverified: Semaphore::new(limits.max_unverified),
            hooks: hooks::HookCache::new(&limits),
            limits,
        }
    }

    /// A place among the requests being read and verified, or 503 at once when they are all taken.
    fn admit(&self) -> Result<SemaphorePermit<'_>, Error> {
        self.unverified.try_acquire().map_err(|_| {
            Error::Unavailable(anyhow::anyhow!(
                "{} webhook requests are being read and verified already",
                self.limits.max_unverified
            ))
        })
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
