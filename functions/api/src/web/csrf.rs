//! CSRF protection of every form. Each browser gets a random token in `__Host-csrf` (`SameSite=
//! Strict`, `HttpOnly`; the `__Host-` prefix keeps other hosts from planting one) and every form
//! carries it back in the field `csrf` (double submit). [`check`] refuses any request but `GET`
//! and `HEAD` whose field does not equal the cookie, and any a browser says came from another
//! site (`Sec-Fetch-Site`), before the route runs. Pages find the token in [`CsrfToken`].

use aws_lc_rs::constant_time::verify_slices_are_equal;
use axum::{
    body::{Body, to_bytes},
    extract::Request,
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use dashboard_shared::Error;
use http::Method;

/// The cookie.
pub const CSRF_COOKIE: &str = "__Host-csrf";
/// The form field.
pub const CSRF_FIELD: &str = "csrf";
/// The largest form body a page accepts.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// This browser's token, for the forms of the page being rendered.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Checks the token of every form, and gives every request its [`CsrfToken`] (setting the cookie
/// when the browser had none).
pub async fn check(request: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let held = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 43);
    let (mut parts, body) = request.into_parts();
    let reading = matches!(parts.method, Method::GET | Method::HEAD);
    let body = if reading {
        body
    } else {
        let cross_site = parts
            .headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| !matches!(site, "same-origin" | "none"));
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return Error::PayloadTooLarge.into_response();
        };
        let sent = form_token(&bytes);
        let matches = match (&held, &sent) {
            (Some(held), Some(sent)) => {
                verify_slices_are_equal(held.as_bytes(), sent.as_bytes()).is_ok()
            }
            _ => false,
        };
        if cross_site || !matches {
            return Error::ForbiddenBecause(
                "this form is out of date or came from another site: reload the page and try again"
                    .into(),
            )
            .into_response();
        }
        Body::from(bytes)
    };
    let (token, fresh) = match held {
        Some(token) => (token, false),
        None => (new_token(), true),
    };
    parts.extensions.insert(CsrfToken(token.clone()));
    let response = next.run(Request::from_parts(parts, body)).await;
    if fresh {
        (CookieJar::new().add(cookie(token)), response).into_response()
    } else {
        response
    }
}

/// The `csrf` field of an `application/x-www-form-urlencoded` body.
fn form_token(body: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs
        .into_iter()
        .find(|(name, _)| name == CSRF_FIELD)
        .map(|(_, value)| value)
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn cookie(token: String) -> Cookie<'static> {
    Cookie::build((CSRF_COOKIE, token))
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_the_form_and_compared_whole() {
        assert_eq!(
            form_token(b"a=1&csrf=abc%2Bd&b=2").as_deref(),
            Some("abc+d")
        );
        assert_eq!(form_token(b"a=1"), None);
        assert_eq!(new_token().len(), 43);
    }
}
