//! The HTTPS API: auth, tenants, members, repositories, projects, tasks, commits and links.
//!
//! [`router`] is the whole service (its routes, the health probes, request tracing);
//! [`routes`] is only its own endpoints, for the local runner that mounts every function on one port.
//! Every endpoint comes from the route table ([`routes::table`]) with the permission it needs.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod openapi;
pub mod orgs;
pub mod reference;
pub mod routes;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod user;
pub mod web;

use std::sync::Arc;

use axum::Router;
use dashboard_shared::{Db, jobs::Transport, serve};

pub use config::ApiConfig;

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The runtime pool; handlers reach data only through the extractors of [`auth::context`].
    pub db: Db,
    /// Settings and keys.
    pub config: Arc<ApiConfig>,
    /// Access tokens this instance verified recently.
    pub verified: auth::verified::VerifiedTokens,
    /// How the jobs a request enqueues (a poll, a replayed job) reach their consumer.
    pub transport: Transport,
    /// This instance's listener of changes, for the pages' live updates.
    pub live: web::live::Hub,
}

impl AppState {
    /// The state for `db` and `config`, announcing jobs over `postgres` (one machine, tests).
    pub fn new(db: Db, config: ApiConfig) -> Self {
        Self {
            transport: Transport::Postgres(db.clone()),
            db,
            config: Arc::new(config),
            verified: auth::verified::VerifiedTokens::default(),
            live: web::live::Hub::default(),
        }
    }

    /// This state with jobs announced over `transport` (deployed: Pub/Sub).
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }
}

/// The function's own endpoints, without probes or middleware.
pub fn routes(state: AppState) -> Router {
    routes::build(&state, routes::table())
        .merge(web::router(&state))
        .with_state(state)
}

/// The complete service as deployed: own routes, `/healthz`, `/readyz`, request tracing.
pub fn router(state: AppState) -> Router {
    let db = state.db.clone();
    serve::service(routes(state), db)
}
