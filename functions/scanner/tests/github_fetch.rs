//! GitHub repositories are fetched over HTTP with an App installation token: the token comes from a
//! fake of GitHub's documented `POST /app/installations/{id}/access_tokens` (asked for the one
//! repository's contents, read-only), and the clone goes
//! through a real network transport, `git http-backend` behind a loopback HTTP server that demands
//! `x-access-token:<token>` by Basic authentication, as github.com does. A wrong token fails the job
//! without the token showing in its error.

mod common;

use std::sync::{Mutex, atomic::Ordering};

use axum::{
    Json, Router,
    body::Bytes,
    extract::Path,
    http::{HeaderMap, StatusCode, header},
    routing::post,
};
use common::{
    commit, context, git,
    git_http::{GitHttp, git_http},
};
use dashboard_shared::{github::GitHubApp, testing};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;

const PRIVATE_KEY: &str = include_str!("../../../shared/tests/data/github-app-test-key.pem");
const GOOD_TOKEN: &str = "ghs_scannerGoodToken0123456789";
const WRONG_TOKEN: &str = "ghs_scannerWrongToken987654321";

/// The bodies of the access-token requests (what each token was scoped to).
static TOKEN_REQUESTS: Mutex<Vec<Value>> = Mutex::new(Vec::new());

/// Installation 77 gets the token the git server accepts; any other a token it refuses.
async fn access_token(
    headers: HeaderMap,
    Path(installation): Path<i64>,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let bearer = headers[header::AUTHORIZATION].to_str().unwrap();
    assert!(bearer.starts_with("Bearer ey"), "an App JWT: {bearer}");
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    TOKEN_REQUESTS.lock().unwrap().push(body);
    let token = if installation == 77 {
        GOOD_TOKEN
    } else {
        WRONG_TOKEN
    };
    (
        StatusCode::CREATED,
        Json(json!({ "token": token, "expires_at": "2026-11-26T13:00:00Z" })),
    )
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_github_repository_is_fetched_with_an_installation_token(admin: PgPool) {
    let work = tempfile::tempdir().unwrap();
    let served = tempfile::tempdir().unwrap();
    let mirrors = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q"]);
    commit(
        work.path(),
        "Cargo.toml",
        "[package]\nname = \"widgets\"\nversion = \"0.5.0\"\n",
        "widgets",
    );
    GitHttp::publish(served.path(), work.path(), "acme/widgets.git");
    let server = GitHttp::new(served.path(), "x-access-token", GOOD_TOKEN);
    let app = Router::new()
        .route("/app/installations/{id}/access_tokens", post(access_token))
        .fallback(git_http)
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let add = |id: i64, installation: i64| {
        let admin = admin.clone();
        let url = format!("{base}/acme/widgets.git");
        async move {
            testing::create_installation(&admin, tenant, installation).await;
            let repository: uuid::Uuid = sqlx::query_scalar(
                "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, full_name, clone_url, default_branch)
                 values ($1, 'github', $2, $3, 'acme/widgets', $4, 'main') returning id",
            )
            .bind(tenant)
            .bind(id)
            .bind(installation)
            .bind(url)
            .fetch_one(&admin)
            .await
            .unwrap();
            repository
        }
    };
    let mut ctx = context(&admin, mirrors.path());
    ctx.github = Some(GitHubApp::new(29310, &SecretString::from(PRIVATE_KEY), &base).unwrap());

    let repository = add(1, 77).await;
    assert_eq!(common::scan(&ctx, tenant, repository).await, 1);
    assert_eq!(
        *TOKEN_REQUESTS.lock().unwrap(),
        [json!({ "repository_ids": [1], "permissions": { "contents": "read" } })],
        "a token for the one repository's contents"
    );
    let project: (String, Option<String>, Option<String>) =
        sqlx::query_as("select type, name, version from app.projects where repository_id = $1")
            .bind(repository)
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(
        project,
        ("cargo".into(), Some("widgets".into()), Some("0.5.0".into()))
    );
    assert!(
        server.unauthorized.load(Ordering::SeqCst) >= 1,
        "asked to authenticate"
    );
    assert!(
        server.authorized.load(Ordering::SeqCst) >= 2,
        "fetched with the token"
    );

    // A refused token: the job fails, and says why without the token.
    let refused = add(2, 78).await;
    assert_eq!(common::scan(&ctx, tenant, refused).await, 1);
    let (status, attempts, error): (String, i32, Option<String>) = sqlx::query_as(
        "select status, attempts, last_error from app.jobs where payload->>'repository' = $1",
    )
    .bind(refused.to_string())
    .fetch_one(&admin)
    .await
    .unwrap();
    let error = error.unwrap();
    assert_eq!((status.as_str(), attempts), ("queued", 1), "{error}");
    assert!(error.contains("clone failed"), "{error}");
    assert!(
        !error.contains(WRONG_TOKEN) && !error.contains(GOOD_TOKEN),
        "{error}"
    );
    let projects: i64 =
        sqlx::query_scalar("select count(*) from app.projects where repository_id = $1")
            .bind(refused)
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(projects, 0);
}
