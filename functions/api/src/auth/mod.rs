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
};
use axum_extra::extract::CookieJar;
use dashboard_shared::Error;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::{AppState, api::Problem, routes::Route};
use context::Account;
use permission::Permission;
use session::Tokens;

/// The routes of sign-in, refresh and sign-out.
pub fn routes() -> Vec<Route> {
    use Permission::{Public, SignedIn};
    vec![
        Route::documented(Public, routes!(jwks)),
        Route::documented(Public, routes!(refresh)),
        Route::documented(SignedIn, routes!(sign_out)),
        Route::documented(SignedIn, routes!(sign_out_everywhere)),
    ]
}

/// Our public keys as `GET /.well-known/jwks.json` answers them (RFC 7517; the JSON of
/// `jsonwebtoken`'s `JwkSet`, described for the OpenAPI document).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the JSON of JwkSet in the OpenAPI document"
)]
struct PublicKeys {
    /// The current key first, then the previous ones.
    keys: Vec<PublicKey>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(ToSchema)]
#[expect(
    dead_code,
    reason = "describes the JSON of Jwk in the OpenAPI document"
)]
struct PublicKey {
    /// `OKP`.
    kty: String,
    /// `Ed25519`.
    crv: String,
    /// The public key, base64url.
    x: String,
    /// Its id (its RFC 7638 thumbprint), the `kid` of the tokens it signed.
    kid: Option<String>,
    /// `sig`.
    #[schema(rename = "use")]
    r#use: Option<String>,
    /// `EdDSA`.
    alg: Option<String>,
}

/// Our public keys, current and previous (J5), to check our access tokens.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "auth",
    responses((status = 200, description = "The key set (cached for 5 minutes)", body = PublicKeys))
)]
async fn jwks(State(state): State<AppState>) -> Response {
    (
        [(http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.config.keys.jwks().clone()),
    )
        .into_response()
}

/// The body of `POST /api/v2/auth/refresh` (browsers send the cookie instead).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    /// The refresh token of the last sign-in or refresh (single use).
    #[schema(max_length = 200)]
    refresh_token: Option<String>,
}

/// The next tokens of a session, from the JSON body's `refresh_token` or the `__Host-refresh`
/// cookie; a cookie (or a browser) is answered with the rotated cookie and no refresh token in the
/// JSON. A refresh token works once: presenting a used one ends its session (R3). No body, or a
/// JSON `null`, means the cookie.
#[utoipa::path(
    post,
    path = "/api/v2/auth/refresh",
    tag = "auth",
    request_body = Option<RefreshRequest>,
    responses(
        (status = 200, description = "New tokens; the refresh token in the JSON only when it came in the JSON", body = Tokens),
        (status = 401, description = "No refresh token, or one that is unknown, used, expired or revoked", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    body: Option<Json<Option<RefreshRequest>>>,
) -> Result<Response, Error> {
    let from_body = body
        .and_then(|Json(body)| body)
        .and_then(|body| body.refresh_token);
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

/// Revokes this session's refresh tokens and clears the cookie (R5). Access tokens already issued
/// expire within the hour.
#[utoipa::path(
    post,
    path = "/api/v2/auth/signout",
    tag = "auth",
    responses((status = 204, description = "Signed out"))
)]
async fn sign_out(mut account: Account, jar: CookieJar) -> Result<Response, Error> {
    session::revoke_family(&mut account.tx, account.claims.sid).await?;
    account.tx.commit().await?;
    Ok((cookies::without_refresh(jar), StatusCode::NO_CONTENT).into_response())
}

/// Revokes every session and every access token of the account (R5, J7).
#[utoipa::path(
    post,
    path = "/api/v2/auth/signout-everywhere",
    tag = "auth",
    responses((status = 204, description = "Every session ended"))
)]
async fn sign_out_everywhere(mut account: Account, jar: CookieJar) -> Result<Response, Error> {
    session::revoke_all(&mut account.tx).await?;
    account.tx.commit().await?;
    Ok((cookies::without_refresh(jar), StatusCode::NO_CONTENT).into_response())
}
