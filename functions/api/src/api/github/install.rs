//! The GitHub App install flow, which binds an installation to an organization only once the person
//! who started it has shown, with their own GitHub user access token, that they can reach it
//! (GitHub's setup URL carries an `installation_id` anyone can forge):
//!
//! 1. `GET /api/v2/orgs/{org}/github/install` (admin+): 302 to GitHub's install page with a state;
//! 2. GitHub → `GET /api/v2/github/setup?installation_id=…&state=…` (the App's setup URL): 302 to
//!    the App's user authorization (PKCE) with the next state;
//! 3. GitHub → `GET /api/v2/github/authorized?code=…&state=…` (the App's callback URL): the code
//!    becomes the person's user access token, `GET /user/installations` must list the
//!    installation, the person must still manage the organization's repositories; then the
//!    installation is the organization's, and the browser goes to `return_to` (303).
//!
//! Each state is a token we sign (its own `typ`), bound to the person, the organization and the
//! browser (the SHA-256 of a secret kept in the `__Host-github-install` cookie, which is also the
//! PKCE verifier of step 3), valid 10 minutes and consumed once.

use axum::{
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::{
    CookieJar,
    cookie::{Cookie, SameSite},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use dashboard_shared::{Error, TenantId, crypto::random_bytes};
use oauth2::{PkceCodeChallenge, PkceCodeVerifier};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::{
    client,
    db::{self, Binding},
    model::{AuthorizedQuery, InstallQuery, SetupQuery},
};
use crate::{
    AppState,
    api::Problem,
    audit,
    auth::{
        context::Member,
        keys::TokenType,
        oauth::{client::printable, flow},
        permission::OrgPermission,
    },
};

/// The cookie that binds a flow to the browser that began it.
pub const COOKIE: &str = "__Host-github-install";
/// Our path of the App's user authorization callback (register `{PUBLIC_URL}` + this at GitHub).
pub const CALLBACK_PATH: &str = "/api/v2/github/authorized";

/// Which step a state opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Step {
    /// GitHub's setup URL, after the installation.
    Setup,
    /// The App's callback URL, after the user authorization.
    Authorized,
}

/// The claims of a state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct InstallState {
    iss: String,
    aud: String,
    /// The person who began.
    sub: Uuid,
    exp: i64,
    nbf: i64,
    iat: i64,
    jti: Uuid,
    /// The organization (tenant id).
    org: Uuid,
    /// The step this state opens.
    step: Step,
    /// The browser: base64url SHA-256 of the cookie's secret.
    browser: String,
    /// The installation GitHub named (step [`Step::Authorized`]).
    installation: Option<i64>,
    /// Where the browser lands at the end.
    return_to: String,
}

/// A fresh browser secret: (the cookie's value, its base64url SHA-256).
fn browser_secret() -> (String, String) {
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()));
    (secret, digest)
}

fn cookie(value: String, max_age_seconds: i64) -> Cookie<'static> {
    Cookie::build((COOKIE, value))
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_seconds))
        .build()
}

/// Signs the state of `step` (and records it, to be consumed once); the browser's secret goes in
/// the cookie of `jar`.
async fn issue(
    state: &AppState,
    jar: CookieJar,
    mut claims: InstallState,
    step: Step,
) -> Result<(String, String, CookieJar), Error> {
    let (secret, digest) = browser_secret();
    let now = Utc::now().timestamp();
    claims.step = step;
    claims.browser = digest;
    claims.jti = Uuid::new_v4();
    (claims.iat, claims.nbf) = (now, now);
    claims.exp = now + flow::FLOW_TTL.num_seconds();
    let token = state.config.keys.sign(TokenType::GitHubInstall, &claims)?;
    flow::remember_state(&state.db, &token).await?;
    let jar = jar.add(cookie(secret.clone(), flow::FLOW_TTL.num_seconds()));
    Ok((token, secret, jar))
}

/// The state of `step`, checked: our signature and type, unexpired, this step's, begun in this
/// browser, and not used before (consumed now). Returns it and the browser's secret.
async fn accept(
    state: &AppState,
    jar: &CookieJar,
    token: Option<&str>,
    step: Step,
) -> Result<(InstallState, String), Error> {
    let token = token.filter(|t| t.len() <= 4096).ok_or_else(|| {
        Error::BadRequest("state: missing; start again from the dashboard".into())
    })?;
    let claims: InstallState = state
        .config
        .keys
        .verify(TokenType::GitHubInstall, token)
        .filter(|c: &InstallState| c.step == step)
        .ok_or_else(|| {
            Error::BadRequest(
                "state: not one we issued for this step, or expired; start again from the \
                 dashboard"
                    .into(),
            )
        })?;
    let secret = jar
        .get(COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|s| URL_SAFE_NO_PAD.encode(Sha256::digest(s.as_bytes())) == claims.browser)
        .ok_or_else(|| {
            Error::BadRequest(
                "this installation began in another browser (or its cookie expired); start again \
                 from the dashboard"
                    .into(),
            )
        })?;
    if !flow::consume_state(&state.db, token).await? {
        return Err(Error::BadRequest(
            "state: already used or expired; start again from the dashboard".into(),
        ));
    }
    Ok((claims, secret))
}

/// A redirect that no cache keeps.
fn found(jar: CookieJar, location: &str) -> Result<Response, Error> {
    let location = HeaderValue::from_str(location)
        .map_err(|_| Error::Internal(anyhow::anyhow!("a redirect URL is not a header value")))?;
    Ok((
        StatusCode::FOUND,
        jar,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response())
}

/// Starts connecting a GitHub App installation: sends the browser to the App's install page.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/github/install",
    tag = "github",
    params(("org" = String, Path, description = "The organization's slug"), InstallQuery),
    responses(
        (status = 302, description = "To GitHub's install page of the App, with the state; sets the `__Host-github-install` cookie"),
        (status = 400, description = "`return_to` is not a path on this site", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This deployment has no GitHub App", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    member: Member,
    Query(query): Query<InstallQuery>,
    jar: CookieJar,
) -> Result<Response, Error> {
    let github = &state.config.github;
    let app = github.app()?;
    let return_to = match query.return_to {
        None => "/".to_owned(),
        Some(path) => flow::local_path(&path).ok_or_else(|| {
            Error::BadRequest("return_to: must be a path on this site, like /orgs".into())
        })?,
    };
    let claims = InstallState {
        iss: state.config.keys.issuer().to_owned(),
        aud: state.config.keys.audience().to_owned(),
        sub: member.account,
        exp: 0,
        nbf: 0,
        iat: 0,
        jti: Uuid::nil(),
        org: member.org.tenant.as_uuid(),
        step: Step::Setup,
        browser: String::new(),
        installation: None,
        return_to,
    };
    let (token, _, jar) = issue(&state, jar, claims, Step::Setup).await?;
    let url = format!(
        "{}/apps/{}/installations/new?state={}",
        github.web_url,
        app.slug,
        percent_encoding::utf8_percent_encode(&token, percent_encoding::NON_ALPHANUMERIC)
    );
    found(jar, &url)
}

/// GitHub's setup URL: after the installation, on to the App's user authorization.
#[utoipa::path(
    get,
    path = "/api/v2/github/setup",
    tag = "github",
    params(SetupQuery),
    responses(
        (status = 302, description = "To the App's user authorization on GitHub (PKCE), with the next state"),
        (status = 303, description = "An update made on GitHub without a state: nothing to do here (its webhook carries the change); to `/`"),
        (status = 400, description = "No, a forged, an expired or a used state; another browser; no installation id", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This deployment has no GitHub App", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn setup(
    State(state): State<AppState>,
    Query(query): Query<SetupQuery>,
    jar: CookieJar,
) -> Result<Response, Error> {
    if query.state.is_none() && query.setup_action.as_deref() == Some("update") {
        return Ok(Redirect::to("/").into_response());
    }
    let (claims, _) = accept(&state, &jar, query.state.as_deref(), Step::Setup).await?;
    let installation = query
        .installation_id
        .as_deref()
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            Error::BadRequest("installation_id: GitHub sent no installation id".into())
        })?;
    let app = state.config.github.app()?;
    let next = InstallState {
        installation: Some(installation),
        ..claims
    };
    let (token, secret, jar) = issue(&state, jar, next, Step::Authorized).await?;
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(secret));
    let redirect = format!("{}{CALLBACK_PATH}", state.config.public_url);
    let url = app
        .github()
        .authorize_url(&app.authorization, &redirect, &token, challenge)?;
    found(jar, &url)
}

/// The App's callback URL: checks the installation with the person's user access token, then
/// connects it to the organization.
#[utoipa::path(
    get,
    path = "/api/v2/github/authorized",
    tag = "github",
    params(AuthorizedQuery),
    responses(
        (status = 303, description = "Connected (or already connected): to `return_to`; the cookie is cleared"),
        (status = 400, description = "No, a forged, an expired or a used state; another browser; GitHub refused the authorization or the code", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The person's GitHub account cannot reach the installation, or the person no longer manages the organization's repositories", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another organization has the installation; or no GitHub App", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "GitHub failed; the detail says how", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn authorized(
    State(state): State<AppState>,
    Query(query): Query<AuthorizedQuery>,
    jar: CookieJar,
) -> Response {
    let outcome = finish(&state, query, &jar).await;
    let jar = jar.add(cookie(String::new(), 0));
    match outcome {
        Ok(return_to) => (jar, Redirect::to(&return_to)).into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "connecting a GitHub App installation failed");
            (jar, error).into_response()
        }
    }
}

/// The callback's checks and the binding; where the browser goes next.
async fn finish(
    state: &AppState,
    query: AuthorizedQuery,
    jar: &CookieJar,
) -> Result<String, Error> {
    let (claims, verifier) = accept(state, jar, query.state.as_deref(), Step::Authorized).await?;
    if let Some(error) = query.error {
        return Err(Error::BadRequest(format!(
            "GitHub did not authorize the App ({}); start again",
            printable(&error)
        )));
    }
    let code = query
        .code
        .filter(|c| (1..=512).contains(&c.len()))
        .ok_or_else(|| Error::BadRequest("code: GitHub sent no code".into()))?;
    let installation = claims
        .installation
        .ok_or_else(|| Error::BadRequest("state: names no installation".into()))?;
    let github = &state.config.github;
    let app = github.app()?;
    let redirect = format!("{}{CALLBACK_PATH}", state.config.public_url);
    let user_token = app
        .github()
        .access_token(
            &github.http,
            &app.authorization,
            &redirect,
            &code,
            &verifier,
        )
        .await?;
    let reachable = client::user_installation(github, &user_token, installation)
        .await?
        .ok_or_else(|| {
            Error::ForbiddenBecause(format!(
                "your GitHub account cannot reach installation {installation} of the App: sign \
                 in to GitHub as an account that can, and start again"
            ))
        })?;
    let tenant = TenantId::from_uuid(claims.org);
    let mut tx = state.db.member(tenant, claims.sub).await?;
    let role = db::find_member_role(&mut tx, claims.sub).await?;
    if !role.is_some_and(|role| OrgPermission::ManageRepositories.allows(role)) {
        return Err(Error::ForbiddenBecause(
            "you no longer manage this organization's repositories".into(),
        ));
    }
    let login = reachable.account.as_ref().map(|a| a.login.as_str());
    match db::bind_installation(&mut tx, installation, login, claims.sub).await? {
        Binding::Elsewhere => {
            return Err(Error::Conflict(format!(
                "installation {installation} is connected to another organization: disconnect it \
                 there first"
            )));
        }
        Binding::Already => {}
        Binding::New => {
            audit::record(
                &mut tx,
                audit::Event {
                    actor: Some(claims.sub),
                    action: "github.installation_connected",
                    target_type: "github_installation",
                    target_id: installation.to_string(),
                    details: serde_json::json!({ "account_login": login }),
                },
            )
            .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(tenant.id = %tenant, installation.id = installation, "GitHub App installation connected");
    Ok(claims.return_to)
}
