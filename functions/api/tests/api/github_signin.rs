//! Sign-in with GitHub against a fake built from GitHub's documented responses ("Authorizing OAuth
//! apps", "REST API endpoints for users" and "for emails"): the authorize redirect, the token
//! endpoint (including its HTTP 200 with an `{error}` body for a bad code), `/user`, `/user/emails`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::Engine as _;
use dashboard_api::{ApiConfig, auth::oauth::providers::Providers};
use dashboard_shared::config::Env;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use sqlx::PgPool;

use crate::{
    providers_support::{access_token, get as call_get, set_cookie, start},
    support::{PUBLIC_URL, TestApp},
};

const ACCESS_TOKEN: &str = "gho_16C7e42F292c6912E7710c838347Ae178B4a";

/// The fake's memory: the person GitHub would return, and the PKCE challenge of each code.
#[derive(Default)]
struct Fake {
    user: Value,
    emails: Value,
    challenges: HashMap<String, String>,
}

type Shared = Arc<Mutex<Fake>>;

/// `GET /login/oauth/authorize`: the person approves at once; back to the callback with a code.
async fn authorize(
    State(fake): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(
        q["redirect_uri"],
        format!("{PUBLIC_URL}/api/v2/auth/github/callback")
    );
    let mut fake = fake.lock().unwrap();
    let code = format!("code-{}", fake.challenges.len());
    fake.challenges
        .insert(code.clone(), q["code_challenge"].clone());
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        q["redirect_uri"], q["state"]
    ))
    .into_response()
}

/// `POST /login/oauth/access_token`: GitHub answers a bad code with HTTP 200 and an error body.
async fn access_token_endpoint(
    State(fake): State<Shared>,
    headers: HeaderMap,
    body: String,
) -> Json<Value> {
    assert_eq!(headers[header::ACCEPT], "application/json");
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap();
    assert_eq!(form["client_secret"], "gh-secret");
    let challenge = fake
        .lock()
        .unwrap()
        .challenges
        .remove(form.get("code").map_or("", String::as_str));
    let verifier = form.get("code_verifier").map_or("", String::as_str);
    let computed =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    if challenge.as_deref() != Some(computed.as_str()) {
        return Json(json!({
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
            "error_uri": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"
        }));
    }
    Json(
        json!({ "access_token": ACCESS_TOKEN, "scope": "read:user,user:email", "token_type": "bearer" }),
    )
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v == &format!("Bearer {ACCESS_TOKEN}"))
}

async fn user(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Requires authentication"})),
        )
            .into_response();
    }
    Json(fake.lock().unwrap().user.clone()).into_response()
}

async fn emails(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Requires authentication"})),
        )
            .into_response();
    }
    Json(fake.lock().unwrap().emails.clone()).into_response()
}

/// Starts the fake on a loopback port for the person `user` with `emails`; our settings for it.
async fn fake_github(user: Value, emails: Value) -> ApiConfig {
    let fake: Shared = Arc::new(Mutex::new(Fake {
        user,
        emails,
        ..Fake::default()
    }));
    let router = Router::new()
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token_endpoint))
        .route("/user", get(self::user))
        .route("/user/emails", get(self::emails))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let mut config = ApiConfig::generated(PUBLIC_URL);
    config.providers = Providers::from_lookup(&Env::from_pairs(&[
        ("GITHUB_CLIENT_ID", "Iv1.8a61f9b3a7aba766"),
        ("GITHUB_CLIENT_SECRET", "gh-secret"),
        ("GITHUB_OAUTH_URL", &base),
        ("GITHUB_API_URL", &base),
    ]))
    .unwrap();
    config
}

fn octocat(id: u64) -> Value {
    json!({ "login": "octocat", "id": id, "node_id": "MDQ6VXNlcjE=", "name": "monalisa octocat",
            "type": "User", "site_admin": false })
}

fn primary(email: &str, verified: bool) -> Value {
    json!([{ "email": email, "verified": verified, "primary": true, "visibility": "public" },
           { "email": "octocat@users.noreply.github.com", "verified": true, "primary": false,
             "visibility": null }])
}

/// Our `/start`, the fake's authorize redirect, and the callback path it sends the browser to.
async fn to_callback(app: &TestApp) -> (String, String) {
    let started = start(app, "github").await;
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = browser.get(&started.location).send().await.unwrap();
    let location = answer.headers()[header::LOCATION].to_str().unwrap();
    let callback = location.strip_prefix(PUBLIC_URL).unwrap().to_owned();
    (callback, started.flow_cookie)
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn github_sign_in_is_keyed_by_the_numeric_user_id(admin: PgPool) {
    let app = TestApp::with_config(
        admin,
        fake_github(octocat(583231), primary("octocat@github.com", true)).await,
    );
    let (callback, cookie) = to_callback(&app).await;
    let reply = call_get(&app, &callback, Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{reply:?}");
    let token = access_token(&app, &reply).await;
    let me = app
        .call(Method::GET, "/api/v2/user", Some(&token), None)
        .await;
    assert_eq!(me.json["email"], "octocat@github.com");
    assert_eq!(me.json["email_verified"], true);
    let identity: (String, String) = sqlx::query_as("select provider, subject from app.identities")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(identity, ("github".to_owned(), "583231".to_owned()));

    let (again, cookie) = to_callback(&app).await;
    let second = call_get(&app, &again, Some(&cookie)).await;
    let token = access_token(&app, &second).await;
    let same = app
        .call(Method::GET, "/api/v2/user", Some(&token), None)
        .await;
    assert_eq!(same.json["id"], me.json["id"]);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_unverified_primary_github_email_is_not_linked(admin: PgPool) {
    let config = fake_github(octocat(1), primary("octocat@github.com", false)).await;
    let app = TestApp::with_config(admin, config);
    let holder = app.create_account("octocat@github.com").await;

    let (callback, cookie) = to_callback(&app).await;
    let reply = call_get(&app, &callback, Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{reply:?}");
    assert!(set_cookie(&reply, "__Host-refresh").is_none());
    let linked: i64 =
        sqlx::query_scalar("select count(*) from app.identities where account_id = $1")
            .bind(holder)
            .fetch_one(&app.admin)
            .await
            .unwrap();
    assert_eq!(linked, 0);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_token_endpoint_answering_200_with_an_error_is_refused_clearly(admin: PgPool) {
    let app = TestApp::with_config(
        admin,
        fake_github(octocat(1), primary("octocat@github.com", true)).await,
    );
    let (callback, cookie) = to_callback(&app).await;
    let code = callback
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let wrong = callback.replace(&format!("code={code}"), "code=not-a-code");

    let reply = call_get(&app, &wrong, Some(&cookie)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    let detail = reply.json["detail"].as_str().unwrap();
    assert!(
        detail.contains("GitHub refused the sign-in (bad_verification_code)"),
        "{detail}"
    );
    assert!(!detail.contains("gh-secret"));
}
