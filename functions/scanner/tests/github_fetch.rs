//! GitHub repositories are fetched over HTTP with an App installation token: the token comes from a
//! fake of GitHub's documented `POST /app/installations/{id}/access_tokens`, and the clone goes
//! through a real network transport, `git http-backend` behind a loopback HTTP server that demands
//! `x-access-token:<token>` by Basic authentication, as github.com does. A wrong token fails the job
//! without the token showing in its error.

mod common;

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::{
    Json, Router,
    body::{Body, to_bytes},
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode, header},
    response::Response,
    routing::post,
};
use base64::Engine as _;
use common::{commit, context, git};
use dashboard_shared::{github::GitHubApp, testing};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::AsyncWriteExt as _;

const PRIVATE_KEY: &str = include_str!("../../../shared/tests/data/github-app-test-key.pem");
const GOOD_TOKEN: &str = "ghs_scannerGoodToken0123456789";
const WRONG_TOKEN: &str = "ghs_scannerWrongToken987654321";

struct Server {
    root: PathBuf,
    unauthorized: AtomicUsize,
    authorized: AtomicUsize,
}

/// Installation 77 gets the token the git server accepts; any other a token it refuses.
async fn access_token(
    headers: HeaderMap,
    Path(installation): Path<i64>,
) -> (StatusCode, Json<Value>) {
    let bearer = headers[header::AUTHORIZATION].to_str().unwrap();
    assert!(bearer.starts_with("Bearer ey"), "an App JWT: {bearer}");
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

/// `git http-backend` as a CGI program, behind Basic authentication.
async fn git_http(State(server): State<Arc<Server>>, request: Request) -> Response {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{GOOD_TOKEN}"))
    );
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == expected.as_bytes());
    if !authorized {
        server.unauthorized.fetch_add(1, Ordering::SeqCst);
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header(header::WWW_AUTHENTICATE, "Basic realm=\"GitHub\"")
            .body(Body::empty())
            .unwrap();
    }
    server.authorized.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    let header_value = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let mut child = tokio::process::Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", &server.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("CONTENT_TYPE", header_value(header::CONTENT_TYPE))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env(
            "HTTP_CONTENT_ENCODING",
            header_value(header::CONTENT_ENCODING),
        )
        .env(
            "GIT_PROTOCOL",
            header_value(header::HeaderName::from_static("git-protocol")),
        )
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&body).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    let split = output
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| (at, 4))
        .or_else(|| {
            output
                .stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|at| (at, 2))
        })
        .expect("CGI headers");
    let head = String::from_utf8_lossy(&output.stdout[..split.0]).into_owned();
    let mut response = Response::builder();
    for line in head.lines() {
        let (name, value) = line.split_once(':').unwrap();
        if name.eq_ignore_ascii_case("status") {
            let code: u16 = value.trim()[..3].parse().unwrap();
            response = response.status(code);
        } else {
            response = response.header(name.trim(), value.trim());
        }
    }
    response
        .body(Body::from(output.stdout[split.0 + split.1..].to_vec()))
        .unwrap()
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
    std::fs::create_dir_all(served.path().join("acme")).unwrap();
    git(
        served.path(),
        &[
            "clone",
            "-q",
            "--bare",
            work.path().to_str().unwrap(),
            "acme/widgets.git",
        ],
    );
    let server = Arc::new(Server {
        root: served.path().to_owned(),
        unauthorized: AtomicUsize::new(0),
        authorized: AtomicUsize::new(0),
    });
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
