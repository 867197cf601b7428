//! A fake GitHub for the repository connections, built from GitHub's documented requests and
//! answers ("Installing a GitHub App", "Generating a user access token for a GitHub App", the REST
//! endpoints for app installations, installation tokens and repository webhooks): the App's install
//! page (back to our setup URL), its user authorization with PKCE (back to our callback), the token
//! endpoint (HTTP 200 with `{error}` for a bad code), `GET /user/installations` (paged by `Link`),
//! installation tokens for a valid App JWT, `GET /installation/repositories`, `GET /repos/{o}/{r}`,
//! and creating and deleting repository webhooks. Plus the browser's walk through the flow.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::{delete, get, post},
};
use base64::Engine as _;
use dashboard_api::{ApiConfig, api::github::GitHubSettings};
use dashboard_shared::config::Env;
use http::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::{
    providers_support::{get as call_get, set_cookie},
    support::{PUBLIC_URL, Reply, TestApp},
    team::{Person, Team},
};

pub const APP_ID: u64 = 29310;
pub const SLUG: &str = "dashboard-test";
pub const CLIENT_ID: &str = "Iv23liFakeClient";
pub const CLIENT_SECRET: &str = "fake-app-client-secret";
const PRIVATE_KEY: &str = include_str!("../../../../shared/tests/data/github-app-test-key.pem");
const PUBLIC_KEY: &str = include_str!("../../../../shared/tests/data/github-app-test-key.pub.pem");
/// The user access token the fake issues (GitHub's prefix for them is `ghu_`).
pub const USER_TOKEN: &str = "ghu_16C7e42F292c6912E7710c838347Ae178B4a";
/// A personal access token with admin rights on every repository of the fake.
pub const ADMIN_PAT: &str = "github_pat_11ABCDEFG0admin";
/// A personal access token that may read repositories but not manage their webhooks.
pub const READ_PAT: &str = "github_pat_11ABCDEFG0read";
/// The most installations the fake lists on one page (GitHub decides the page size too).
const PAGE: usize = 2;

/// What the fake knows and what it was asked.
#[derive(Default)]
pub struct Fake {
    /// The installation the install page "creates" (what GitHub puts in the setup URL).
    pub installing: i64,
    /// The installations the signed-in GitHub user can reach: (id, account login).
    pub user_installations: Vec<(i64, String)>,
    /// The repositories of each installation.
    pub installations: HashMap<i64, Vec<Value>>,
    /// The repositories the personal access tokens see, by `owner/name`.
    pub repositories: HashMap<String, Value>,
    /// The webhooks created: id → (`owner/name`, the request's body).
    pub hooks: HashMap<i64, (String, Value)>,
    /// The token endpoint refuses every code with this error.
    pub refuse_codes: Option<&'static str>,
    /// `GET /user/installations` answers 500.
    pub installations_fail: bool,
    codes: HashMap<String, String>,
    next_hook: i64,
}

pub type Shared = Arc<Mutex<Fake>>;

/// The fake on a loopback port, and our settings pointing at it.
pub struct FakeGitHub {
    pub url: String,
    pub state: Shared,
}

impl FakeGitHub {
    pub async fn start() -> Self {
        let state: Shared = Arc::default();
        let router = Router::new()
            .route("/apps/{slug}/installations/new", get(install_page))
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(access_token))
            .route("/user/installations", get(user_installations))
            .route(
                "/app/installations/{id}/access_tokens",
                post(installation_token),
            )
            .route("/installation/repositories", get(installation_repositories))
            .route("/repos/{owner}/{repo}", get(repository))
            .route("/repos/{owner}/{repo}/hooks", post(create_hook))
            .route("/repos/{owner}/{repo}/hooks/{id}", delete(delete_hook))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { url, state }
    }

    pub fn lock(&self) -> MutexGuard<'_, Fake> {
        self.state.lock().unwrap()
    }

    /// Our settings with the App at this fake.
    pub fn config(&self) -> ApiConfig {
        let mut config = ApiConfig::generated(PUBLIC_URL);
        config.github = GitHubSettings::from_lookup(
            &Env::from_pairs(&[
                ("GITHUB_OAUTH_URL", &self.url),
                ("GITHUB_API_URL", &self.url),
                ("GITHUB_APP_SLUG", SLUG),
                ("GITHUB_APP_ID", &APP_ID.to_string()),
                ("GITHUB_APP_PRIVATE_KEY", PRIVATE_KEY),
                ("GITHUB_APP_CLIENT_ID", CLIENT_ID),
                ("GITHUB_APP_CLIENT_SECRET", CLIENT_SECRET),
                (
                    "GITHUB_WEBHOOK_URL",
                    "https://hooks.dashboard.test/webhooks/github",
                ),
            ]),
            PUBLIC_URL,
        )
        .unwrap();
        config
    }
}

/// A repository as GitHub's REST API describes it.
pub fn repo(id: i64, full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap();
    json!({
        "id": id, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name, "full_name": full_name,
        "owner": { "login": owner, "id": 1, "type": "User" },
        "private": false, "html_url": format!("https://github.com/{full_name}"),
        "clone_url": format!("https://github.com/{full_name}.git"),
        "default_branch": "main", "archived": false, "disabled": false,
        "permissions": { "admin": true, "push": true, "pull": true }
    })
}

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        Json(json!({ "message": text, "documentation_url": "https://docs.github.com/rest", "status": status.as_u16().to_string() })),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
}

/// The App's install page: the person installs, GitHub sends them to the setup URL.
async fn install_page(
    State(fake): State<Shared>,
    Path(slug): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(slug, SLUG);
    let installation = fake.lock().unwrap().installing;
    let state =
        percent_encoding::utf8_percent_encode(&q["state"], percent_encoding::NON_ALPHANUMERIC);
    Redirect::to(&format!(
        "{PUBLIC_URL}/api/v2/github/setup?installation_id={installation}&setup_action=install&state={state}"
    ))
    .into_response()
}

/// The App's user authorization: approved at once, back to the callback URL with a code.
async fn authorize(
    State(fake): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["redirect_uri"],
        format!("{PUBLIC_URL}/api/v2/github/authorized")
    );
    let mut fake = fake.lock().unwrap();
    let code = format!("code-{}", fake.codes.len());
    fake.codes.insert(code.clone(), q["code_challenge"].clone());
    let state =
        percent_encoding::utf8_percent_encode(&q["state"], percent_encoding::NON_ALPHANUMERIC);
    Redirect::to(&format!("{}?code={code}&state={state}", q["redirect_uri"])).into_response()
}

/// The token endpoint: a user access token for a code whose PKCE verifier matches; GitHub answers a
/// bad code with HTTP 200 and an error body.
async fn access_token(State(fake): State<Shared>, headers: HeaderMap, body: String) -> Json<Value> {
    assert_eq!(headers[header::ACCEPT], "application/json");
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap();
    assert_eq!(
        (form["client_id"].as_str(), form["client_secret"].as_str()),
        (CLIENT_ID, CLIENT_SECRET)
    );
    let mut fake = fake.lock().unwrap();
    let challenge = fake
        .codes
        .remove(form.get("code").map_or("", String::as_str));
    let verifier = form.get("code_verifier").map_or("", String::as_str);
    let computed =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    if let Some(error) = fake
        .refuse_codes
        .or((challenge.as_deref() != Some(computed.as_str())).then_some("bad_verification_code"))
    {
        return Json(json!({
            "error": error,
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"
        }));
    }
    Json(json!({
        "access_token": USER_TOKEN, "expires_in": 28800,
        "refresh_token": "ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498",
        "refresh_token_expires_in": 15811200, "scope": "", "token_type": "bearer"
    }))
}

/// The installations of the App the user can reach, `PAGE` at a time with a `Link` to the next.
async fn user_installations(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if bearer(&headers) != USER_TOKEN {
        return message(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let fake = fake.lock().unwrap();
    if fake.installations_fail {
        return message(StatusCode::INTERNAL_SERVER_ERROR, "Server Error");
    }
    let page: usize = q.get("page").map_or(1, |p| p.parse().unwrap());
    let all = &fake.user_installations;
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * PAGE)
        .take(PAGE)
        .map(|(id, login)| {
            json!({ "id": id, "app_id": APP_ID, "app_slug": SLUG, "target_type": "Organization",
                    "account": { "login": login, "id": id * 10, "type": "Organization",
                                 "html_url": format!("https://github.com/{login}") },
                    "repository_selection": "selected", "suspended_at": null })
        })
        .collect();
    let mut response =
        Json(json!({ "total_count": all.len(), "installations": items })).into_response();
    if page * PAGE < all.len() {
        let host = headers[header::HOST].to_str().unwrap();
        let link = format!(
            "<http://{host}/user/installations?per_page=100&page={}>; rel=\"next\"",
            page + 1
        );
        response
            .headers_mut()
            .insert(header::LINK, link.parse().unwrap());
    }
    response
}

/// An installation token, for a JWT the App signed (RS256, `iss` the App's id, unexpired).
async fn installation_token(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[APP_ID.to_string()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    if jsonwebtoken::decode::<Value>(bearer(&headers), &key, &validation).is_err() {
        return message(
            StatusCode::UNAUTHORIZED,
            "A JSON web token could not be decoded",
        );
    }
    let scope: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(scope["permissions"], json!({ "metadata": "read" }));
    if !fake.lock().unwrap().installations.contains_key(&id) {
        return message(StatusCode::NOT_FOUND, "Not Found");
    }
    (
        StatusCode::CREATED,
        Json(
            json!({ "token": format!("ghs_installation_{id}"), "expires_at": "2026-12-07T11:00:00Z",
                     "permissions": { "metadata": "read" }, "repository_selection": "selected" }),
        ),
    )
        .into_response()
}

async fn installation_repositories(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    let id: Option<i64> = bearer(&headers)
        .strip_prefix("ghs_installation_")
        .and_then(|id| id.parse().ok());
    let fake = fake.lock().unwrap();
    let Some(repositories) = id.and_then(|id| fake.installations.get(&id)) else {
        return message(StatusCode::UNAUTHORIZED, "Bad credentials");
    };
    Json(
        json!({ "total_count": repositories.len(), "repository_selection": "selected",
                 "repositories": repositories }),
    )
    .into_response()
}

async fn repository(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
) -> Response {
    if ![ADMIN_PAT, READ_PAT].contains(&bearer(&headers)) {
        return message(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    match fake
        .lock()
        .unwrap()
        .repositories
        .get(&format!("{owner}/{name}"))
    {
        Some(repo) => Json(repo.clone()).into_response(),
        None => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn create_hook(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Path((owner, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let full_name = format!("{owner}/{name}");
    let mut fake = fake.lock().unwrap();
    if bearer(&headers) != ADMIN_PAT || !fake.repositories.contains_key(&full_name) {
        // GitHub hides what a token may not administer.
        return message(StatusCode::NOT_FOUND, "Not Found");
    }
    let body: Value = serde_json::from_slice(&body).unwrap();
    let url = &body["config"]["url"];
    if fake
        .hooks
        .values()
        .any(|(repo, hook)| *repo == full_name && hook["config"]["url"] == *url)
    {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "message": "Validation Failed",
                         "errors": [{ "resource": "Hook", "code": "custom", "message": "Hook already exists on this repository" }],
                         "documentation_url": "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook",
                         "status": "422" })),
        )
            .into_response();
    }
    fake.next_hook += 1;
    let id = 12_345_677 + fake.next_hook;
    fake.hooks.insert(id, (full_name.clone(), body.clone()));
    let api = format!("https://api.github.com/repos/{full_name}/hooks/{id}");
    (
        StatusCode::CREATED,
        Json(json!({
            "type": "Repository", "id": id, "name": "web", "active": true, "events": body["events"],
            "config": { "content_type": "json", "insecure_ssl": "0", "url": url },
            "updated_at": "2026-12-06T10:30:00Z", "created_at": "2026-12-06T10:30:00Z",
            "url": api, "test_url": format!("{api}/test"), "ping_url": format!("{api}/pings"),
            "deliveries_url": format!("{api}/deliveries"),
            "last_response": { "code": null, "status": "unused", "message": null }
        })),
    )
        .into_response()
}

async fn delete_hook(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Path((owner, name, id)): Path<(String, String, i64)>,
) -> Response {
    if bearer(&headers) != ADMIN_PAT {
        return message(StatusCode::NOT_FOUND, "Not Found");
    }
    let mut fake = fake.lock().unwrap();
    match fake.hooks.get(&id) {
        Some((repo, _)) if *repo == format!("{owner}/{name}") => {
            fake.hooks.remove(&id);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// A flow begun by `who` at our `/install`: the URL of GitHub's install page and our cookie.
pub struct Begun {
    pub location: String,
    pub cookie: String,
}

/// `GET /api/v2/orgs/{org}/github/install` as `who`, which must answer 302 with the cookie.
pub async fn begin(app: &TestApp, team: &Team, who: &Person) -> Begun {
    let reply = app
        .send(
            http::Request::get(team.path("/github/install?return_to=/orgs/done"))
                .header(header::AUTHORIZATION, format!("Bearer {}", who.token))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FOUND, "{reply:?}");
    Begun {
        location: location(&reply),
        cookie: set_cookie(&reply, "__Host-github-install").expect("the flow cookie is set"),
    }
}

pub fn location(reply: &Reply) -> String {
    reply.headers[header::LOCATION].to_str().unwrap().to_owned()
}

/// The browser at GitHub: one redirect from `url`, which must come back to us; our path and query.
pub async fn at_github(url: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(url).send().await.unwrap();
    let next = answer.headers()[header::LOCATION].to_str().unwrap();
    next.strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("GitHub sent the browser elsewhere: {next}"))
        .to_owned()
}

/// The whole flow as `who`'s browser: our `/install`, GitHub's install page, our setup URL, the
/// App's authorization, our callback. The callback's answer.
pub async fn connect_installation(app: &TestApp, team: &Team, who: &Person) -> Reply {
    let begun = begin(app, team, who).await;
    let setup = at_github(&begun.location).await;
    let reply = call_get(app, &setup, Some(&begun.cookie)).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{reply:?}");
    let cookie = set_cookie(&reply, "__Host-github-install").expect("the next step's cookie");
    let callback = at_github(&location(&reply)).await;
    call_get(app, &callback, Some(&cookie)).await
}
