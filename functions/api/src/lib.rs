//! The HTTPS API: auth, tenants, members, repositories, projects, tasks, commits and links.
//!
//! [`router`] is the whole service (its routes, the health probes, request tracing);
//! [`routes`] is only its own endpoints, for the local runner that mounts every function on one port.

pub mod auth;
pub mod read;
#[cfg(feature = "test-support")]
pub mod testing;

use axum::Router;
use dashboard_shared::{Db, serve};

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The runtime pool; handlers reach tenant data only through [`Db::tenant`].
    pub db: Db,
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
