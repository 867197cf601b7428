//! What a page shows when something is refused or fails: the problems the shared handlers answer
//! (`application/problem+json`, or a plain-text rejection) become an HTML page with the same status
//! and detail; a request without a session goes to the sign-in page and comes back afterwards.
//! Also the headers every page carries (a Content-Security-Policy that allows only this origin,
//! no framing).

use askama::Template;
use axum::{
    body::to_bytes,
    extract::Request,
    middleware::Next,
    response::{Html, IntoResponse as _, Redirect, Response},
};
use http::{
    HeaderValue, Method, StatusCode,
    header::{
        CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
        X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    },
};

use super::layout::Chrome;

/// Pages load scripts, styles, images and connections from this origin only; no framing.
pub const POLICY: &str = "default-src 'self'; img-src 'self' data:; base-uri 'none'; \
                          form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// The largest problem body read to show its detail.
const MAX_PROBLEM_BYTES: usize = 16 * 1024;

/// Adds the pages' security headers.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Shows a refusal or failure as a page; sends a caller without a session to sign in.
pub async fn as_pages(request: Request, next: Next) -> Response {
    let reading = request.method() == Method::GET;
    let back = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".into());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_html(&response) {
        return response;
    }
    if status == StatusCode::UNAUTHORIZED {
        let next = if reading { back.as_str() } else { "/" };
        let mut redirect = Redirect::to(&super::signin::sign_in_href(next)).into_response();
        for value in response.headers().get_all(http::header::SET_COOKIE) {
            redirect
                .headers_mut()
                .append(http::header::SET_COOKIE, value.clone());
        }
        return redirect;
    }
    let problem = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_PROBLEM_BYTES).await.unwrap_or_default();
    let detail = if problem {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned))
            .unwrap_or_default()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let mut page = error_page(status, &sentence(&detail)).into_response();
    for name in [http::header::SET_COOKIE, http::header::RETRY_AFTER] {
        for value in parts.headers.get_all(&name) {
            page.headers_mut().append(name.clone(), value.clone());
        }
    }
    page
}

/// The page of a refusal or failure.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    reason: &'a str,
    detail: &'a str,
}

/// A page with `status` saying `detail`.
pub fn error_page(status: StatusCode, detail: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let page = ErrorPage {
        chrome: Chrome::bare(reason),
        status: status.as_u16(),
        reason,
        detail,
    };
    (status, super::layout::render(&page)).into_response()
}

/// `text` with its first letter capitalised (problems are written as clauses: "not found").
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("text/event-stream"))
}

/// A rendered page, or a 500 when a template fails (it cannot, but for a formatter's error).
pub fn html(result: askama::Result<String>) -> Response {
    match result {
        Ok(body) => Html(body).into_response(),
        Err(error) => {
            tracing::error!(error = %error, "a page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
