//! `ETag` and `If-None-Match` for every JSON read: a successful `GET` answered with JSON gets a
//! strong entity tag (the body's SHA-256, truncated), and a request that already holds that tag
//! gets `304 Not Modified` with no body. Done once, around the routes, so no handler computes tags.

use axum::{
    body::{Body, to_bytes},
    extract::Request,
    http::{
        HeaderMap, HeaderValue, Method, StatusCode,
        header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH},
    },
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

/// A JSON body larger than this is served without a tag (pages are far smaller).
const MAX_TAGGED_BODY: usize = 16 * 1024 * 1024;

/// Tags JSON answers to `GET` and answers 304 when the caller's tag matches.
pub async fn tag(request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let held = request.headers().get(IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || !is_json(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_TAGGED_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let digest = Sha256::digest(&bytes);
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..18]));
    let value = HeaderValue::from_str(&etag).expect("base64url is a valid header value");
    if held.is_some_and(|held| matches(&held, &etag)) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        not_modified.headers_mut().insert(ETAG, value);
        return not_modified;
    }
    parts.headers.insert(ETAG, value);
    Response::from_parts(parts, Body::from(bytes))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// `If-None-Match` uses the weak comparison (RFC 9110 13.1.2): `*`, or any listed tag equal to
/// ours with or without `W/`.
fn matches(held: &HeaderValue, etag: &str) -> bool {
    let Ok(held) = held.to_str() else {
        return false;
    };
    held.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

#[cfg(test)]
mod tests {
    use axum::{Json, Router, middleware, routing::get};
    use tower::ServiceExt as _;

    use super::*;

    fn app() -> Router {
        Router::new()
            .route(
                "/list",
                get(|| async { Json(vec![1, 2, 3]) }).post(|| async { Json(1) }),
            )
            .layer(middleware::from_fn(tag))
    }

    async fn call(method: Method, if_none_match: Option<&str>) -> Response {
        let mut request = Request::builder().method(method).uri("/list");
        if let Some(tag) = if_none_match {
            request = request.header(IF_NONE_MATCH, tag);
        }
        app()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_read_is_tagged_and_a_matching_tag_gets_304() {
        let first = call(Method::GET, None).await;
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[ETAG].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.len() == 26, "{etag}");

        let again = call(Method::GET, Some(&etag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[ETAG], etag.as_str());
        let body = to_bytes(again.into_body(), 1024).await.unwrap();
        assert!(body.is_empty());

        let weak_in_a_list = format!("\"other\", W/{etag}");
        assert_eq!(
            call(Method::GET, Some(&weak_in_a_list)).await.status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            call(Method::GET, Some("\"stale\"")).await.status(),
            StatusCode::OK
        );
        assert!(call(Method::POST, None).await.headers().get(ETAG).is_none());
    }
}
