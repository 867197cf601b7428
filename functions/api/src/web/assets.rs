//! The pages' stylesheet and script, compiled into the binary and served under names that carry
//! their content's hash, so browsers keep them for a year and a new build is fetched at once.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    response::{IntoResponse, Response},
    routing::get,
};
use dashboard_shared::Error;
use http::{
    HeaderValue,
    header::{CACHE_CONTROL, CONTENT_TYPE},
};
use sha2::{Digest as _, Sha256};

use crate::{auth::permission::Permission, routes::Route};

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");

/// One file, under its hashed name.
struct Asset {
    href: String,
    body: &'static str,
    content_type: &'static str,
}

static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        asset("app", "css", CSS, "text/css; charset=utf-8"),
        asset("app", "js", JS, "text/javascript; charset=utf-8"),
    ]
});

fn asset(stem: &str, extension: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = Sha256::digest(body.as_bytes());
    let hash: String = digest[..5].iter().map(|b| format!("{b:02x}")).collect();
    Asset {
        href: format!("/assets/{stem}.{hash}.{extension}"),
        body,
        content_type,
    }
}

/// The stylesheet's address.
pub fn css_href() -> &'static str {
    &ASSETS[0].href
}

/// The script's address.
pub fn js_href() -> &'static str {
    &ASSETS[1].href
}

/// The route of the assets (anyone may fetch them).
pub fn routes() -> Vec<Route> {
    vec![Route::new(
        http::Method::GET,
        "/assets/{file}",
        Permission::Public,
        get(serve),
    )]
}

async fn serve(Path(file): Path<String>) -> Result<Response, Error> {
    let asset = ASSETS
        .iter()
        .find(|a| a.href.strip_prefix("/assets/") == Some(file.as_str()))
        .ok_or(Error::NotFound)?;
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        asset.body,
    )
        .into_response())
}
