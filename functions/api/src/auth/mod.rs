//! Who a caller is: our signing keys, sessions and refresh tokens, the extractor that decides what
//! a caller may do, and the sign-in flows.

pub mod context;
pub mod cookies;
pub mod keys;
pub mod mail;
pub mod oauth;
pub mod opaque;
pub mod password;
pub mod password_flows;
pub mod permission;
pub mod session;
pub mod signin;
pub mod throttle;
pub mod totp;
pub mod verified;

use axum::{
    Json,
    extract::State,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use axum_extra::extract::CookieJar;
use dashboard_shared::Error;
use http::{HeaderMap, Method, StatusCode};
use serde::Deserialize;

use crate::{AppState, routes::Route};
use context::Account;
use permission::Permission;

/// The routes of sign-in, refresh and sign-out.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/.well-known/jwks.json",
            Permission::Public,
            get(jwks),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/refresh",
            Permission::Public,
            post(refresh),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/signout",
            Permission::SignedIn,
            post(sign_out),
        ),
        Route::new(
            Method::POST,
            "/api/v2/auth/signout-everywhere",
            Permission::SignedIn,
            post(sign_out_everywhere),
        ),
    ]
}

/// `GET /.well-known/jwks.json`: our public keys, current and previous (J5).
async fn jwks(State(state): State<AppState>) -> Response {
    (
        [(http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.config.keys.jwks().clone()),
    )
        .into_response()
}

/// The body of `POST /api/v2/auth/refresh` (browsers send the cookie instead).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    refresh_token: Option<String>,
}

/// `POST /api/v2/auth/refresh`: the next tokens of a session, from the JSON body's
/// `refresh_token` or the `__Host-refresh` cookie; a cookie (or a browser) is answered with the
/// rotated cookie and no refresh token in the JSON.
async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    body: Option<Json<RefreshRequest>>,
) -> Result<Response, Error> {
    let from_body = body.and_then(|Json(body)| body.refresh_token);
    let by_cookie = from_body.is_none();
    let presented = from_body
        .or_else(|| cookies::refresh_token(&jar))
        .ok_or(Error::Unauthorized)?;
    if presented.len() > 200 {
        return Err(Error::Unauthorized);
    }
    let mut tokens = session::refresh(&state.db, &state.config.keys, &presented).await?;
    let jar = cookies::deliver(jar, &headers, by_cookie, &mut tokens);
    Ok((jar, Json(tokens)).into_response())
}

/// `POST /api/v2/auth/signout`: revokes this session's refresh-token family and clears the cookie
/// (R5). Access tokens already issued expire within the hour.
async fn sign_out(mut account: Account, jar: CookieJar) -> Result<Response, Error> {
    session::revoke_family(&mut account.tx, account.claims.sid).await?;
    account.tx.commit().await?;
    Ok((cookies::without_refresh(jar), StatusCode::NO_CONTENT).into_response())
}

/// `POST /api/v2/auth/signout-everywhere`: revokes every session and every access token of the
/// account (R5, J7).
async fn sign_out_everywhere(mut account: Account, jar: CookieJar) -> Result<Response, Error> {
    session::revoke_all(&mut account.tx).await?;
    account.tx.commit().await?;
    Ok((cookies::without_refresh(jar), StatusCode::NO_CONTENT).into_response())
}
