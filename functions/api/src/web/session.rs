//! The browser's session on pages. A sign-in leaves the refresh token in `__Host-refresh` (as the
//! API does for browsers, R4); pages keep the access token beside it in `__Host-access`
//! (`HttpOnly`, `SameSite=Strict`, as long as the token lives). [`attach`] turns that cookie into
//! the request's bearer credential, so [`authorize`](crate::auth::context::authorize) decides for
//! pages exactly as for the API; when the access token is missing or expired it first rotates the
//! refresh token (one database round trip, once an hour). A header the browser sent is ignored:
//! pages authenticate by their cookies only. A refresh that fails leaves the cookies alone: when
//! two requests of one browser refresh at once, the loser's answer must not delete the session the
//! winner just set (a dead token is replaced at the next sign-in, or dropped at sign-out).

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};
use http::{HeaderValue, StatusCode, header::AUTHORIZATION};

use crate::{
    AppState,
    auth::{
        cookies,
        session::{self, Tokens},
    },
};

/// The access token's cookie.
pub const ACCESS_COOKIE: &str = "__Host-access";

/// Puts the session's access token in the request's `Authorization`, renewing it first when it
/// expired, and sends the renewed cookies back with the response.
pub async fn attach(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let (mut parts, body) = request.into_parts();
    parts.headers.remove(AUTHORIZATION);
    let current = match jar.get(ACCESS_COOKIE) {
        Some(cookie) => state
            .verified
            .access_claims(&state.config.keys, cookie.value())
            .await
            .map(|_| cookie.value().to_owned()),
        None => None,
    };
    let mut renewed = None;
    let from_cookie = current.is_some();
    let token = match (current, cookies::refresh_token(&jar)) {
        (Some(token), _) => Some(token),
        (None, Some(refresh)) if !parts.uri.path().starts_with("/assets/") => {
            match session::refresh(&state.db, &state.config.keys, &refresh).await {
                Ok(tokens) => {
                    let token = tokens.access_token.clone();
                    renewed = Some(tokens);
                    Some(token)
                }
                Err(_) => None,
            }
        }
        _ => None,
    };
    if let Some(value) = token.and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok()) {
        parts.headers.insert(AUTHORIZATION, value);
    }
    let response = next.run(Request::from_parts(parts, body)).await;
    match renewed {
        Some(tokens) => (keep(CookieJar::new(), &tokens), response).into_response(),
        // The route refused the cookie's token (every session ended elsewhere): dropped, so that
        // the next request tries the refresh token, and else shows the sign-in page.
        None if from_cookie && response.status() == StatusCode::UNAUTHORIZED => {
            (forget_access(CookieJar::new()), response).into_response()
        }
        None => response,
    }
}

/// `jar` with the session of `tokens`: the refresh token and the access token.
pub fn keep(jar: CookieJar, tokens: &Tokens) -> CookieJar {
    let jar = if tokens.refresh_token.is_empty() {
        jar
    } else {
        cookies::with_refresh(jar, &tokens.refresh_token)
    };
    jar.add(access_cookie(&tokens.access_token, tokens.expires_in))
}

/// `jar` dropping the access token only.
fn forget_access(jar: CookieJar) -> CookieJar {
    jar.add(access_cookie("", 0))
}

/// `jar` dropping the session's cookies.
pub fn forget(jar: CookieJar) -> CookieJar {
    cookies::without_refresh(jar).add(access_cookie("", 0))
}

fn access_cookie(token: &str, seconds: i64) -> Cookie<'static> {
    Cookie::build((ACCESS_COOKIE, token.to_owned()))
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(seconds))
        .build()
}
