//! The route table: every endpoint with the [`Permission`] it needs. The router is built from this
//! table only, each route behind [`authorize`] with its own permission, so a route cannot exist
//! without declaring one; the role-matrix test walks the same table. Routes under `/api/v2/auth/`
//! also run behind the per-address limiter ([`limit_by_address`], P6).

use axum::{Router, middleware, routing::MethodRouter};
use http::Method;

use crate::{
    AppState,
    auth::{context::authorize, permission::Permission, throttle::limit_by_address},
};

/// One endpoint.
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path, with axum's `{param}` captures (`{org}` is the organization's slug).
    pub path: &'static str,
    /// What the caller needs.
    pub permission: Permission,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

impl Route {
    /// A route of the table.
    pub fn new(
        method: Method,
        path: &'static str,
        permission: Permission,
        handler: MethodRouter<AppState>,
    ) -> Self {
        Self {
            method,
            path,
            permission,
            handler,
        }
    }
}

/// Every endpoint of the api function.
pub fn table() -> Vec<Route> {
    [
        crate::auth::routes(),
        crate::auth::password_flows::routes(),
        crate::auth::oauth::routes(),
        crate::user::routes(),
        crate::orgs::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The prefix of the sign-in routes, limited per client address.
pub const AUTH_PREFIX: &str = "/api/v2/auth/";

/// The router for `routes`, each behind [`authorize`] with its permission, and those under
/// [`AUTH_PREFIX`] first behind the per-address limiter.
pub fn build(state: &AppState, routes: Vec<Route>) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, route| {
        let guard = middleware::from_fn_with_state((state.clone(), route.permission), authorize);
        let mut handler = route.handler.route_layer(guard);
        if route.path.starts_with(AUTH_PREFIX) {
            let limiter = state.config.limiter.clone();
            handler =
                handler.route_layer(middleware::from_fn_with_state(limiter, limit_by_address));
        }
        router.route(route.path, handler)
    })
}
