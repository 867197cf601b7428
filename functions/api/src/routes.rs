//! The route table: every endpoint with the [`Permission`] it needs. The router is built from this
//! table only, each route behind [`authorize`] with its own permission, so a route cannot exist
//! without declaring one; the role-matrix test walks the same table. Routes under `/api/v2/auth/`
//! also run behind the per-address limiter ([`limit_by_address`], P6). A documented route carries
//! its OpenAPI operation (from `#[utoipa::path]`, through utoipa-axum's `routes!`), from which its
//! path and method are taken, so the document and the router cannot disagree.

use axum::{Router, middleware, routing::MethodRouter};
use http::Method;
use utoipa::openapi::{RefOr, path::Paths, schema::Schema};
use utoipa_axum::router::UtoipaMethodRouter;

use crate::{
    AppState,
    api::etag,
    auth::{context::authorize, permission::Permission, throttle::limit_by_address},
};

/// One endpoint.
pub struct Route {
    /// Its method.
    pub method: Method,
    /// Its path, with axum's `{param}` captures (`{org}` is the organization's slug).
    pub path: String,
    /// What the caller needs.
    pub permission: Permission,
    /// The handler.
    pub handler: MethodRouter<AppState>,
    /// Its OpenAPI operation, when documented.
    pub doc: Option<RouteDoc>,
}

/// A documented route's part of the OpenAPI document.
pub struct RouteDoc {
    /// Its path with its one operation.
    pub paths: Paths,
    /// The schemas the operation names.
    pub schemas: Vec<(String, RefOr<Schema>)>,
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
            path: path.to_owned(),
            permission,
            handler,
            doc: None,
        }
    }

    /// A documented route: `utoipa_axum::routes!(handler)` of one handler annotated with
    /// `#[utoipa::path]`, whose path and method it takes from the annotation.
    pub fn documented(permission: Permission, routed: UtoipaMethodRouter<AppState>) -> Self {
        let (schemas, paths, handler) = routed;
        let mut operations = paths.paths.iter().flat_map(|(path, item)| {
            [
                (Method::GET, item.get.is_some()),
                (Method::POST, item.post.is_some()),
                (Method::PUT, item.put.is_some()),
                (Method::PATCH, item.patch.is_some()),
                (Method::DELETE, item.delete.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(move |(method, _)| (method, path.clone()))
        });
        let (method, path) = operations
            .next()
            .expect("a documented route has one operation");
        assert!(
            operations.next().is_none(),
            "one handler per documented route ({path})"
        );
        Self {
            method,
            path,
            permission,
            handler,
            doc: Some(RouteDoc { paths, schemas }),
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
        crate::api::routes(),
        crate::openapi::routes(),
        crate::reference::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The prefix of the sign-in routes, limited per client address.
pub const AUTH_PREFIX: &str = "/api/v2/auth/";

/// The router for `routes`, each behind [`authorize`] with its permission, and those under
/// [`AUTH_PREFIX`] first behind the per-address limiter; reads answer with an `ETag`.
pub fn build(state: &AppState, routes: Vec<Route>) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, route| {
        let guard = middleware::from_fn_with_state((state.clone(), route.permission), authorize);
        let mut handler = route.handler.route_layer(guard);
        if route.method == Method::GET {
            handler = handler.route_layer(middleware::from_fn(etag::tag));
        }
        if route.path.starts_with(AUTH_PREFIX) {
            let limiter = state.config.limiter.clone();
            handler =
                handler.route_layer(middleware::from_fn_with_state(limiter, limit_by_address));
        }
        router.route(&route.path, handler)
    })
}
