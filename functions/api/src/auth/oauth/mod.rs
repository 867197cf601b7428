//! Sign-in through providers (GitHub, Google, any OpenID Connect issuer): the list of configured
//! providers, `/start` (to the provider, with state, PKCE and nonce in a short cookie) and
//! `/callback` (state consumed, `iss` checked, code exchanged, the person found or linked or
//! created, then the common end of every sign-in: tokens, or an MFA token).
//!
//! The browser ends on a 303: to `return_to` (or `/`) with the `__Host-refresh` cookie set, or,
//! when the account has MFA, to `/signin/mfa` with the MFA token in a 5-minute `__Host-mfa` cookie.

mod cache;
pub(crate) mod client;
pub(crate) mod flow;
pub(crate) mod github;
mod identities;
mod link;
mod oidc;
pub mod providers;
pub(crate) mod transport;

use axum::{
    Json,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::CookieJar;
use dashboard_shared::Error;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use crate::{
    AppState,
    api::Problem,
    auth::{cookies, permission::Permission, session::amr, signin},
    routes::Route,
};
use flow::Flow;
use providers::{Kind, Provider};

/// Where a browser that still owes its second factor lands.
pub const MFA_PAGE: &str = "/signin/mfa";
/// The longest user agent kept with a session.
const MAX_USER_AGENT: usize = 256;

/// Who signed in at a provider, as the provider says.
#[derive(Debug, Clone)]
pub struct Person {
    /// The provider's stable user id (OIDC `sub`, GitHub's numeric id).
    pub subject: String,
    /// Their address.
    pub email: Option<String>,
    /// Whether the provider verified it.
    pub email_verified: bool,
    /// Their name.
    pub name: Option<String>,
}

/// The routes of provider sign-in and of a person's identities.
pub fn routes() -> Vec<Route> {
    let mut routes = vec![
        Route::documented(Permission::Public, routes!(list)),
        Route::documented(Permission::Public, routes!(start)),
        Route::documented(Permission::Public, routes!(callback)),
    ];
    routes.extend(identities::routes());
    routes
}

/// One entry of `GET /api/v2/auth/providers`.
#[derive(Debug, Serialize, ToSchema)]
struct Offered {
    /// Its name in paths (`github`, `google`, …).
    name: String,
    /// Its name for people.
    label: String,
    /// Where a browser starts signing in with it.
    start_url: String,
}

/// The providers this deployment signs in with.
#[utoipa::path(
    get,
    path = "/api/v2/auth/providers",
    tag = "auth",
    responses((status = 200, description = "The configured providers", body = [Offered]))
)]
async fn list(State(state): State<AppState>) -> Json<Vec<Offered>> {
    let public_url = &state.config.public_url;
    Json(
        state
            .config
            .providers
            .iter()
            .map(|p| Offered {
                name: p.name.clone(),
                label: p.label.clone(),
                start_url: format!("{public_url}/api/v2/auth/{}/start", p.name),
            })
            .collect(),
    )
}

/// Where the browser goes after signing in.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StartQuery {
    /// A path on this site (`/orgs`); `/` when absent.
    return_to: Option<String>,
}

/// Starts signing in with a provider (in a browser): a redirect to it, with the flow's state,
/// PKCE and nonce in a short cookie.
#[utoipa::path(
    get,
    path = "/api/v2/auth/{provider}/start",
    tag = "auth",
    params(("provider" = String, Path, description = "The provider's name"), StartQuery),
    responses(
        (status = 302, description = "To the provider", headers(("Location" = String, description = "The provider's authorization page"))),
        (status = 400, description = "`return_to` is not a path on this site", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such provider here", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn start(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<StartQuery>,
    jar: CookieJar,
) -> Result<Response, Error> {
    let provider = state.config.providers.get(&name).ok_or(Error::NotFound)?;
    let return_to = match query.return_to {
        None => "/".to_owned(),
        Some(path) => flow::local_path(&path).ok_or_else(|| {
            Error::BadRequest("return_to must be a path on this site, like /orgs".into())
        })?,
    };
    let oidc = matches!(provider.kind, Kind::Oidc(_));
    let (flow, challenge) = Flow::begin(&provider.name, oidc, return_to);
    let redirect = provider.redirect_uri(&state.config.public_url);
    let http = &state.config.providers.http;
    let url = match &provider.kind {
        Kind::Oidc(oidc) => {
            let nonce = flow.nonce.as_deref().unwrap_or_default();
            oidc.authorize_url(http, &provider, &redirect, &flow.state, challenge, nonce)
                .await?
        }
        Kind::GitHub(github) => {
            github.authorize_url(&provider, &redirect, &flow.state, challenge)?
        }
    };
    flow::remember_state(&state.db, &flow.state).await?;
    let headers = [
        (::http::header::LOCATION, url),
        (::http::header::CACHE_CONTROL, "no-store".to_owned()),
    ];
    Ok((::http::StatusCode::FOUND, flow.store(jar), headers).into_response())
}

/// The provider's answer: a code and our state, or an error.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackQuery {
    /// The authorization code.
    code: Option<String>,
    /// The state of the flow this answers.
    state: Option<String>,
    /// The provider's issuer (RFC 9207).
    iss: Option<String>,
    /// Why the provider did not sign the person in.
    error: Option<String>,
}

/// Where the provider sends the browser back: signs in and sends the browser on, to `return_to`
/// with the refresh cookie set, or to the MFA page. The flow cookie is dropped whatever the
/// outcome.
#[utoipa::path(
    get,
    path = "/api/v2/auth/{provider}/callback",
    tag = "auth",
    params(("provider" = String, Path, description = "The provider's name"), CallbackQuery),
    responses(
        (status = 303, description = "Signed in (or the second factor is next)", headers(("Location" = String, description = "`return_to`, or the MFA page"))),
        (status = 400, description = "The flow expired or began in another browser, its state does not match, or the provider refused", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The account is disabled", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such provider here", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An account already uses the address and the two cannot be joined", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn callback(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<CallbackQuery>,
    headers: ::http::HeaderMap,
    jar: CookieJar,
) -> Response {
    let flow = Flow::load(&jar);
    let jar = Flow::clear(jar);
    // Visible ASCII only (`to_str`), so cutting at a byte is safe; sessions keep it for display.
    let user_agent = headers
        .get(::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| &ua[..ua.len().min(MAX_USER_AGENT)]);
    match finish(&state, &name, flow, query, user_agent).await {
        Ok((outcome, return_to)) => landing(jar, outcome, &return_to),
        Err(error) => {
            tracing::warn!(provider.name = %name, error = %error, "sign-in through a provider failed");
            (jar, error).into_response()
        }
    }
}

/// The callback's work: every check, then the account and the end of the sign-in.
async fn finish(
    state: &AppState,
    name: &str,
    flow: Option<Flow>,
    query: CallbackQuery,
    user_agent: Option<&str>,
) -> Result<(signin::Outcome, String), Error> {
    let provider = state.config.providers.get(name).ok_or(Error::NotFound)?;
    let flow = flow
        .filter(|f| f.provider == provider.name)
        .ok_or_else(|| {
            Error::BadRequest(
                "this sign-in expired or began in another browser; start again".into(),
            )
        })?;
    if query.state.as_deref() != Some(flow.state.as_str()) {
        return Err(Error::BadRequest(
            "the state does not match this sign-in; start again".into(),
        ));
    }
    if !flow::consume_state(&state.db, &flow.state).await? {
        return Err(Error::BadRequest(
            "this sign-in was already completed or expired; start again".into(),
        ));
    }
    check_issuer(state, &provider, query.iss.as_deref()).await?;
    if let Some(error) = query.error {
        let error = client::printable(&error);
        return Err(Error::BadRequest(format!(
            "{} did not sign you in ({error})",
            provider.label
        )));
    }
    let code = query.code.filter(|c| (1..=2048).contains(&c.len()));
    let code = code.ok_or_else(|| Error::BadRequest("the provider sent no code".into()))?;
    let redirect = provider.redirect_uri(&state.config.public_url);
    let http = &state.config.providers.http;
    let person = match &provider.kind {
        Kind::Oidc(oidc) => {
            let nonce = flow.nonce.as_deref().unwrap_or_default();
            oidc.sign_in(http, &provider, &redirect, &code, &flow.verifier, nonce)
                .await?
        }
        Kind::GitHub(github) => {
            github
                .sign_in(http, &provider, &redirect, &code, &flow.verifier)
                .await?
        }
    };
    let (mut tx, found) = link::account_for(&state.db, &provider.name, &person).await?;
    let outcome = signin::complete(&mut tx, &state.config.keys, amr::FEDERATED, user_agent).await?;
    let account = tx.account_id();
    tx.commit().await?;
    let mfa = matches!(outcome, signin::Outcome::MfaRequired { .. });
    tracing::info!(
        provider.name = %provider.name,
        account.id = %account,
        ?found,
        mfa,
        "signed in through a provider"
    );
    Ok((outcome, flow.return_to))
}

/// RFC 9207: an `iss` in the answer must be the provider's; an OpenID issuer that promises to send
/// it must have sent it.
async fn check_issuer(
    state: &AppState,
    provider: &Provider,
    iss: Option<&str>,
) -> Result<(), Error> {
    let http = &state.config.providers.http;
    let (expected, required): (Vec<&str>, bool) = match &provider.kind {
        Kind::Oidc(oidc) => {
            let discovery = oidc.discovery(http).await?;
            let accepted = oidc.accepted_issuers.iter().map(String::as_str).collect();
            (
                accepted,
                discovery.authorization_response_iss_parameter_supported,
            )
        }
        Kind::GitHub(github) => (vec![github.oauth_url.as_str()], false),
    };
    match iss {
        Some(iss) if expected.contains(&iss) => Ok(()),
        None if !required => Ok(()),
        _ => Err(Error::BadRequest(
            "the answer does not come from the provider this sign-in began with".into(),
        )),
    }
}

/// The browser's next stop after a successful callback.
fn landing(jar: CookieJar, outcome: signin::Outcome, return_to: &str) -> Response {
    match outcome {
        signin::Outcome::Tokens(tokens) => (
            cookies::with_refresh(jar, &tokens.refresh_token),
            Redirect::to(return_to),
        )
            .into_response(),
        signin::Outcome::MfaRequired { mfa_token, .. } => {
            (cookies::with_mfa(jar, &mfa_token), Redirect::to(MFA_PAGE)).into_response()
        }
    }
}
