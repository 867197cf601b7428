//! A forced push (or one cut at 2048 commits) is completed from GitHub's compare API, faked here from
//! its documented response ("Compare two commits", paginated by `page`/`per_page`), with an
//! installation token asked for that one repository's contents only.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    routing::{get, post},
};
use dashboard_linker::{LinkerContext, ingest::ingest_push};
use dashboard_shared::{github::GitHubApp, jobs::Transport, jobs::kinds::IngestPush, testing};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

const PRIVATE_KEY: &str = include_str!("../../../shared/tests/data/github-app-test-key.pem");
const TOKEN: &str = "ghs_backfill_token";
const BEFORE: &str = "1111111111111111111111111111111111111111";
const AFTER: &str = "2222222222222222222222222222222222222222";
const TOTAL: usize = 150;

fn sha(i: usize) -> String {
    format!("{:040x}", 0x00c0_ffee_0000_u64 + i as u64)
}

/// The bodies of the access-token requests the fake received.
type TokenRequests = Arc<Mutex<Vec<Value>>>;

/// "Create an installation access token for an app": answers 201 with a token, and records the
/// request body (the repositories and permissions asked for).
async fn access_token(
    State(requests): State<TokenRequests>,
    Path(installation): Path<i64>,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    assert_eq!(installation, 77);
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    requests.lock().unwrap().push(body);
    (
        StatusCode::CREATED,
        Json(json!({ "token": TOKEN, "expires_at": "2026-11-26T11:00:00Z" })),
    )
}

async fn compare(
    headers: HeaderMap,
    Path((owner, repo, range)): Path<(String, String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> (StatusCode, Json<Value>) {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    if !authorized
        || (owner.as_str(), repo.as_str(), range.as_str())
            != ("Codertocat", "Hello-World", &format!("{BEFORE}...{AFTER}"))
    {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": "Not Found" })),
        );
    }
    let page: usize = query
        .iter()
        .find(|(k, _)| k == "page")
        .map_or(1, |(_, v)| v.parse().unwrap());
    let commits: Vec<Value> = (0..TOTAL)
        .skip((page - 1) * 100)
        .take(100)
        .map(|i| {
            json!({
                "sha": sha(i),
                "commit": {
                    "message": format!("Commit {i}"),
                    "author": { "name": "Monalisa Octocat", "email": "mona@github.com", "date": "2026-11-20T16:00:49Z" },
                    "committer": { "name": "Monalisa Octocat", "email": "mona@github.com", "date": "2026-11-20T16:00:49Z" }
                }
            })
        })
        .collect();
    (
        StatusCode::OK,
        Json(
            json!({ "status": "ahead", "ahead_by": TOTAL, "behind_by": 0, "total_commits": TOTAL, "commits": commits }),
        ),
    )
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_forced_push_is_completed_from_the_compare_api(admin: PgPool) {
    let token_requests = TokenRequests::default();
    let api = Router::new()
        .route("/app/installations/{id}/access_tokens", post(access_token))
        .route("/repos/{owner}/{repo}/compare/{range}", get(compare))
        .with_state(token_requests.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, api).await });

    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    testing::create_installation(&admin, tenant, 77).await;
    let repository: Uuid = sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, full_name, clone_url)
         values ($1, 'github', 186853002, 77, 'Codertocat/Hello-World', 'https://github.com/Codertocat/Hello-World.git') returning id",
    )
    .bind(tenant)
    .fetch_one(&admin)
    .await
    .unwrap();
    // The payload names one of the commits, with its files; the rest only the compare API knows.
    let payload = json!({
        "ref": "refs/heads/main", "before": BEFORE, "after": AFTER, "forced": true, "deleted": false,
        "commits": [{ "id": sha(149), "message": "Commit 149", "timestamp": "2026-11-20T16:00:49-08:00",
                      "author": { "name": "Monalisa Octocat", "email": "mona@github.com" },
                      "added": ["src/lib.rs"], "removed": [], "modified": ["README.md"] }],
    });
    let delivery: Uuid = sqlx::query_scalar(
        "insert into app.webhook_deliveries (tenant_id, hook_id, delivery_id, event, body) values ($1, 1, 'g', 'push', $2) returning id",
    )
    .bind(tenant)
    .bind(serde_json::to_vec(&payload).unwrap())
    .fetch_one(&admin)
    .await
    .unwrap();

    let db = testing::runtime_db(&admin);
    let github = GitHubApp::new(29310, &SecretString::from(PRIVATE_KEY), &url).unwrap();
    let ctx = LinkerContext {
        db: db.clone(),
        transport: Transport::Postgres(db),
        github: Some(github),
        semantic: None,
    };
    ingest_push(
        ctx.clone(),
        tenant,
        IngestPush {
            delivery,
            repository,
        },
    )
    .await
    .unwrap();

    let stored: i64 = sqlx::query_scalar("select count(*) from app.commits")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(
        stored, TOTAL as i64,
        "every commit of before...after is stored"
    );
    let paths: Vec<String> = sqlx::query_scalar(
        "select unnest(changed_paths) from app.commits where sha = $1 order by 1",
    )
    .bind(sha(149))
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        paths,
        ["README.md", "src/lib.rs"],
        "the payload's version of a commit keeps its files"
    );
    let linked: Value =
        sqlx::query_scalar("select payload from app.jobs where kind = 'link_commits'")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(linked["commits"].as_array().unwrap().len(), TOTAL);
    assert_eq!(
        token_requests.lock().unwrap()[0],
        json!({ "repository_ids": [186853002], "permissions": { "contents": "read" } }),
        "the token reaches the one repository, read-only"
    );

    // Again (at-least-once delivery): nothing new.
    ingest_push(
        ctx,
        tenant,
        IngestPush {
            delivery,
            repository,
        },
    )
    .await
    .unwrap();
    let jobs: i64 = sqlx::query_scalar("select count(*) from app.jobs where kind = 'link_commits'")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(jobs, 1);
}
