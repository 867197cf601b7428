//! The reconciler against a stand-in for GitHub's REST API built from its documented responses
//! ("List deliveries for an app webhook", "Redeliver a delivery", "Create an installation access
//! token"), with the App's JWT checked against the App's public key.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use chrono::{Duration, Utc};
use dashboard_shared::{github::GitHubApp, testing};
use dashboard_webhook::reconcile::{Report, reconcile};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;

const APP_ID: u64 = 29310;
const INSTALLATION_TOKEN: &str = "ghs_16C7e42F292c6912E7710c838347Ae178B4a";
const PRIVATE_KEY: &str = include_str!("../../../shared/tests/data/github-app-test-key.pem");
const PUBLIC_KEY: &str = include_str!("../../../shared/tests/data/github-app-test-key.pub.pem");

#[derive(Clone, Default)]
struct FakeGitHub {
    app_deliveries: Vec<Value>,
    repo_deliveries: Vec<Value>,
    redelivered: Arc<Mutex<Vec<String>>>,
    /// The bodies of the access-token requests (what the tokens were scoped to).
    token_requests: Arc<Mutex<Vec<Value>>>,
}

fn attempt(id: i64, guid: &str, minutes_ago: i64, status_code: i32, redelivery: bool) -> Value {
    json!({
        "id": id,
        "guid": guid,
        "delivered_at": (Utc::now() - Duration::minutes(minutes_ago)).to_rfc3339(),
        "redelivery": redelivery,
        "duration": 0.27,
        "status": if (200..300).contains(&status_code) { "OK" } else { "Invalid HTTP Response: 503" },
        "status_code": status_code,
        "event": "push",
        "action": null,
        "installation_id": 123,
        "repository_id": 186853002,
        "throttled_at": null
    })
}

fn app_jwt_is_valid(headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).unwrap();
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .is_ok_and(|data| data.claims["iss"].as_str() == Some(&*APP_ID.to_string()))
}

fn installation_token_is_valid(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {INSTALLATION_TOKEN}"))
}

async fn app_deliveries(
    State(fake): State<FakeGitHub>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> impl IntoResponse {
    if !app_jwt_is_valid(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            HeaderMap::new(),
            Json(json!({"message": "A JSON web token could not be decoded"})),
        );
    }
    // Two pages of two, newest first, joined by a cursor in the Link header, as GitHub paginates.
    let second = q.iter().any(|(k, v)| k == "cursor" && v == "v1_2");
    let page: Vec<Value> = fake
        .app_deliveries
        .iter()
        .skip(if second { 2 } else { 0 })
        .take(2)
        .cloned()
        .collect();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut headers = HeaderMap::new();
    if !second {
        let next =
            format!(r#"<http://{host}/app/hook/deliveries?per_page=100&cursor=v1_2>; rel="next""#);
        headers.insert(header::LINK, next.parse().unwrap());
    }
    (StatusCode::OK, headers, Json(json!(page)))
}

async fn redeliver_app(
    State(fake): State<FakeGitHub>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> StatusCode {
    if !app_jwt_is_valid(&headers) {
        return StatusCode::UNAUTHORIZED;
    }
    fake.redelivered.lock().unwrap().push(format!("app:{id}"));
    StatusCode::ACCEPTED
}

async fn access_token(
    State(fake): State<FakeGitHub>,
    headers: HeaderMap,
    Path(installation): Path<i64>,
    body: Bytes,
) -> impl IntoResponse {
    if !app_jwt_is_valid(&headers) || installation != 77 {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        );
    }
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    fake.token_requests.lock().unwrap().push(body);
    (
        StatusCode::CREATED,
        Json(
            json!({"token": INSTALLATION_TOKEN, "expires_at": "2026-11-26T10:00:00Z", "permissions": {}, "repository_selection": "all"}),
        ),
    )
}

async fn repo_deliveries(
    State(fake): State<FakeGitHub>,
    headers: HeaderMap,
    Path((owner, repo, hook)): Path<(String, String, i64)>,
) -> impl IntoResponse {
    if !installation_token_is_valid(&headers)
        || (owner.as_str(), repo.as_str(), hook) != ("Codertocat", "Hello-World", 555)
    {
        return (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"})));
    }
    (StatusCode::OK, Json(json!(fake.repo_deliveries)))
}

async fn redeliver_repo(
    State(fake): State<FakeGitHub>,
    headers: HeaderMap,
    Path((_, _, hook, id)): Path<(String, String, i64, i64)>,
) -> StatusCode {
    if !installation_token_is_valid(&headers) {
        return StatusCode::UNAUTHORIZED;
    }
    fake.redelivered
        .lock()
        .unwrap()
        .push(format!("repo:{hook}:{id}"));
    StatusCode::ACCEPTED
}

async fn serve(fake: FakeGitHub) -> String {
    let app = Router::new()
        .route("/app/hook/deliveries", get(app_deliveries))
        .route("/app/hook/deliveries/{id}/attempts", post(redeliver_app))
        .route("/app/installations/{id}/access_tokens", post(access_token))
        .route(
            "/repos/{owner}/{repo}/hooks/{hook}/deliveries",
            get(repo_deliveries),
        )
        .route(
            "/repos/{owner}/{repo}/hooks/{hook}/deliveries/{id}/attempts",
            post(redeliver_repo),
        )
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn failed_deliveries_we_never_stored_are_redelivered_once(admin: PgPool) {
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    testing::create_installation(&admin, tenant, 77).await;
    sqlx::query(
        "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, full_name, clone_url, webhook_hook_id)
         values ($1, 'github', 186853002, 77, 'Codertocat/Hello-World', 'https://github.com/Codertocat/Hello-World.git', 555)",
    )
    .bind(tenant)
    .execute(&admin)
    .await
    .unwrap();
    // "stored-guid" failed at GitHub's end (we answered too late) but we did store it.
    sqlx::query("insert into app.webhook_deliveries (tenant_id, hook_id, delivery_id, event, body) values ($1, 1, 'stored-guid', 'push', '{}')")
        .bind(tenant)
        .execute(&admin)
        .await
        .unwrap();

    let fake = FakeGitHub {
        app_deliveries: vec![
            attempt(6, "recovered-guid", 10, 200, true), // a redelivery that worked
            attempt(5, "lost-guid", 20, 503, false),     // never stored: redeliver
            attempt(4, "recovered-guid", 30, 503, false),
            attempt(3, "stored-guid", 40, 0, false),
            // (page two) older than three days: outside GitHub's window, ignored.
        ],
        repo_deliveries: vec![
            attempt(12, "repo-lost-guid", 5, 500, false),
            attempt(11, "just-retried-guid", 10, 503, true), // redelivered this hour already
            attempt(10, "just-retried-guid", 70, 503, false),
        ],
        ..FakeGitHub::default()
    };
    let mut fake_with_old = fake.clone();
    fake_with_old
        .app_deliveries
        .push(attempt(2, "ancient-guid", 5 * 24 * 60, 503, false));
    let api = serve(fake_with_old.clone()).await;
    let app = GitHubApp::new(APP_ID, &SecretString::from(PRIVATE_KEY), &api).unwrap();

    let report = reconcile(&testing::runtime_db(&admin), &app).await.unwrap();
    let mut redelivered = fake_with_old.redelivered.lock().unwrap().clone();
    redelivered.sort();
    assert_eq!(redelivered, ["app:5", "repo:555:12"]);
    assert_eq!(
        *fake_with_old.token_requests.lock().unwrap(),
        [json!({ "repository_ids": [186853002], "permissions": { "repository_hooks": "write" } })],
        "one token, for the hook's repository and its webhooks only"
    );
    assert_eq!(
        report,
        Report {
            examined: 7,
            redelivered: 2,
            errors: 0
        }
    );
}
