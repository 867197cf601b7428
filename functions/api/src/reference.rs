//! The interactive API reference at `GET /api/v2/docs`: Swagger UI (npm `swagger-ui-dist`, vendored
//! into `functions/api/assets/swagger-ui/` by `scripts/vendor-api-reference`) compiled into the
//! binary and reading [`/openapi.json`](crate::openapi). Nothing comes from another origin, and every
//! file is served under a Content-Security-Policy that allows only this one: the page has no inline
//! script or style, a small script of ours (`docs.js`) starts Swagger UI.

use axum::{
    response::{IntoResponse, Response},
    routing::get,
};
use http::{
    HeaderValue, Method,
    header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY},
};

use crate::{auth::permission::Permission, routes::Route};

/// The path of the page.
pub const PATH: &str = "/api/v2/docs";

/// This origin only: no inline script or style, no frames, no plugins, forms and links to here.
pub const POLICY: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; \
                          frame-ancestors 'none'; object-src 'none'";

/// A file of the page.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Where it is served.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

/// The page and its files.
pub const ASSETS: [Asset; 4] = [
    Asset {
        path: PATH,
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../assets/docs.html"),
    },
    Asset {
        path: "/api/v2/docs/docs.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/docs.js"),
    },
    Asset {
        path: "/api/v2/docs/swagger-ui-bundle.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
    },
    Asset {
        path: "/api/v2/docs/swagger-ui.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/swagger-ui/swagger-ui.css"),
    },
];

/// The routes of the page and its files (public, like the document they show).
pub fn routes() -> Vec<Route> {
    ASSETS
        .into_iter()
        .map(|asset| {
            Route::new(
                Method::GET,
                asset.path,
                Permission::Public,
                get(move || async move { serve(asset) }),
            )
        })
        .collect()
}

fn serve(asset: Asset) -> Response {
    // The page is small and names the files; they change with a new build, so an hour is enough.
    let cache = if asset.path == PATH {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)),
        (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (CACHE_CONTROL, HeaderValue::from_static(cache)),
        (
            http::header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    (headers, asset.body).into_response()
}
