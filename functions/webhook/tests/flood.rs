//! `POST /webhooks/github` under requests nobody signed, against real PostgreSQL and, where the
//! socket matters, a real loopback listener: junk never takes a database connection, unverified
//! requests are bounded, and a body that trickles in is cut off.

use std::{sync::Arc, time::Duration};

use axum::{Router, body::Body, http::Request};
use dashboard_shared::{
    Db, TenantId, crypto::SecretBox, crypto::webhook_secret_context, jobs::Transport, testing,
};
use dashboard_webhook::{AppState, Limits, WebhookConfig, router, signature::sign};
use futures_util::StreamExt as _;
use secrecy::SecretString;
use sqlx::PgPool;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
};
use tower::ServiceExt as _;
use uuid::Uuid;

const APP_SECRET: &str = "app-webhook-secret";
const HOOK_KEY: [u8; 32] = [7; 32];
const HOOK_ID: i64 = 555;
const HOOK_SECRET: &str = "current-hook-secret";
const ISSUE: &[u8] = include_bytes!("fixtures/github-webhooks/issues/opened.payload.json");

/// A tenant with one repository whose hook `HOOK_ID` is signed with `HOOK_SECRET`.
async fn repository_with_hook(admin: &PgPool) -> (TenantId, Uuid) {
    let tenant = testing::create_tenant(admin, "tenant-a").await;
    testing::create_installation(admin, tenant, 1).await;
    let repository: Uuid = sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, full_name, clone_url, default_branch)
         values ($1, 'github', 186853002, 1, 'Codertocat/Hello-World', 'https://github.com/Codertocat/Hello-World.git', 'master')
         returning id",
    )
    .bind(tenant)
    .fetch_one(admin)
    .await
    .unwrap();
    set_hook_secret(admin, tenant, repository, HOOK_ID, HOOK_SECRET).await;
    (tenant, repository)
}

async fn set_hook_secret(
    admin: &PgPool,
    tenant: TenantId,
    repository: Uuid,
    hook: i64,
    secret: &str,
) {
    let sealed = SecretBox::from_key(&HOOK_KEY).seal(
        secret.as_bytes(),
        &webhook_secret_context(tenant.as_uuid(), repository),
    );
    sqlx::query("update app.repositories set webhook_hook_id = $2, webhook_secret_encrypted = $3 where id = $1")
        .bind(repository)
        .bind(hook)
        .bind(sealed)
        .execute(admin)
        .await
        .unwrap();
}

fn state(db: &Db, limits: Limits) -> AppState {
    let config = WebhookConfig {
        app_secrets: vec![SecretString::from(APP_SECRET)],
        app_id: None,
        secret_box: Some(SecretBox::from_key(&HOOK_KEY)),
    };
    AppState::new(
        db.clone(),
        Arc::new(config),
        Transport::Postgres(db.clone()),
    )
    .with_limits(limits)
}

/// An `issues` delivery from repository hook `hook` (0: from the App), signed with `secret`.
fn delivery(hook: i64, secret: &str) -> Request<Body> {
    let mut request = Request::post("/webhooks/github")
        .header("content-type", "application/json")
        .header("x-github-event", "issues")
        .header("x-github-delivery", Uuid::new_v4().to_string())
        .header("x-hub-signature-256", sign(secret, ISSUE));
    if hook != 0 {
        request = request
            .header("x-github-hook-id", hook.to_string())
            .header("x-github-hook-installation-target-type", "repository");
    } else {
        request = request.header("x-github-hook-installation-target-type", "integration");
    }
    request.body(Body::from(ISSUE)).unwrap()
}

async fn status(router: &Router, request: Request<Body>) -> u16 {
    router
        .clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn junk_deliveries_are_refused_without_waiting_for_a_database_connection(admin: PgPool) {
    repository_with_hook(&admin).await;
    let db = Db::connect_lazy_with(testing::runtime_options(&admin), 1);
    let limits = Limits {
        hook_refresh_after: Duration::from_secs(600),
        hook_cache_ttl: Duration::from_secs(600),
        ..Limits::default()
    };
    let router = router(state(&db, limits));
    // Each hook id is looked up once: the hook, and an id no hook has.
    assert_eq!(status(&router, delivery(HOOK_ID, HOOK_SECRET)).await, 202);
    assert_eq!(status(&router, delivery(556, HOOK_SECRET)).await, 401);

    // The pool's only connection is taken: anything that asked for one would wait, then answer 503.
    let held = db.without_tenant().await.unwrap();
    let junk = (0..60).map(|i| match i % 3 {
        0 => delivery(556, HOOK_SECRET),        // a cached miss
        1 => delivery(HOOK_ID, "guessed"),      // a known hook, a bad signature
        _ => delivery(0, "not-the-app-secret"), // the App's path needs no look-up at all
    });
    let answers =
        futures_util::future::join_all(junk.map(|request| status(&router, request))).await;
    assert!(answers.iter().all(|&s| s == 401), "{answers:?}");

    drop(held);
    assert_eq!(
        status(&router, delivery(HOOK_ID, HOOK_SECRET)).await,
        202,
        "a signed delivery from the cached hook still gets through"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_failed_delivery_looks_up_a_cached_hook_again_once_it_is_old_enough(admin: PgPool) {
    let (tenant, repository) = repository_with_hook(&admin).await;
    let db = testing::runtime_db(&admin);
    let limits = Limits {
        hook_refresh_after: Duration::ZERO,
        ..Limits::default()
    };
    let router = router(state(&db, limits));
    assert_eq!(status(&router, delivery(HOOK_ID, HOOK_SECRET)).await, 202);
    assert_eq!(status(&router, delivery(777, "new-hook-secret")).await, 401);

    // Elsewhere (the API), the secret is rotated and another hook created.
    set_hook_secret(&admin, tenant, repository, HOOK_ID, "rotated-secret").await;
    assert_eq!(
        status(&router, delivery(HOOK_ID, "rotated-secret")).await,
        202
    );
    let other = testing::create_tenant(&admin, "tenant-b").await;
    testing::create_installation(&admin, other, 2).await;
    let other_repository: Uuid = sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, full_name, clone_url, default_branch)
         values ($1, 'github', 1, 2, 'o/r', 'https://github.com/o/r.git', 'main') returning id",
    )
    .bind(other)
    .fetch_one(&admin)
    .await
    .unwrap();
    set_hook_secret(&admin, other, other_repository, 777, "new-hook-secret").await;
    assert_eq!(status(&router, delivery(777, "new-hook-secret")).await, 202);
}

/// Serves `router` on a loopback port; returns its address.
async fn serve(router: Router) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// Opens a connection and sends a signed delivery's headers and the first `sent` bytes of its body.
async fn start_delivery(address: std::net::SocketAddr, sent: usize) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /webhooks/github HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         x-github-event: issues\r\nx-github-delivery: {}\r\nx-hub-signature-256: {}\r\n\
         x-github-hook-installation-target-type: integration\r\ncontent-length: {}\r\n\r\n",
        Uuid::new_v4(),
        sign(APP_SECRET, ISSUE),
        ISSUE.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&ISSUE[..sent]).await.unwrap();
    stream
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_body_that_trickles_in_is_answered_408_and_its_connection_closed(admin: PgPool) {
    let db = testing::runtime_db(&admin);
    let limits = Limits {
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let address = serve(router(state(&db, limits))).await;
    let (mut reader, mut writer) = start_delivery(address, 10).await.into_split();
    // One more byte now and then, never the whole body (bounded: it stops before the body's end).
    let trickle = tokio::spawn(async move {
        for byte in &ISSUE[10..ISSUE.len() - 1] {
            if writer.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    let until_closed = async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break, // closed (or reset, as the trickle goes on writing)
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    };
    // A guard, not an assertion on time: without a cut-off the server would wait for ever.
    let outcome = tokio::time::timeout(Duration::from_secs(120), until_closed).await;
    trickle.abort();
    let answer = String::from_utf8_lossy(&received);
    assert!(outcome.is_ok(), "neither answered nor closed: {answer:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive in time"), "{answer}");
}

/// A request whose body sends `sent` bytes and then nothing more, never ending; `started` fires once
/// the server has taken those bytes and waits for more.
fn endless_delivery(sent: usize, started: tokio::sync::oneshot::Sender<()>) -> Request<Body> {
    let first = futures_util::stream::iter([Ok(vec![b' '; sent])]);
    let then_nothing = futures_util::stream::once(async move {
        let _ = started.send(());
        std::future::pending::<Result<Vec<u8>, std::io::Error>>().await
    });
    let mut request = delivery(0, APP_SECRET);
    *request.body_mut() = Body::from_stream(first.chain(then_nothing));
    request
}

/// Starts `count` endless deliveries of `sent` bytes each; returns them once the server holds them.
async fn hold(router: &Router, count: usize, sent: usize) -> Vec<tokio::task::JoinHandle<u16>> {
    let mut slow = Vec::new();
    for _ in 0..count {
        let (started, reading) = tokio::sync::oneshot::channel();
        let request = endless_delivery(sent, started);
        let router = router.clone();
        slow.push(tokio::spawn(async move { status(&router, request).await }));
        reading.await.unwrap();
    }
    slow
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn unverified_bodies_share_a_bounded_budget_that_trickling_ones_cannot_spend(admin: PgPool) {
    let db = testing::runtime_db(&admin);
    let limits = Limits {
        unverified_bytes: 3 * ISSUE.len() - 1,
        body_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let router = router(state(&db, limits));
    let trickling = hold(&router, 50, 10).await;
    assert_eq!(
        status(&router, delivery(0, APP_SECRET)).await,
        202,
        "bodies that trickle in hold only what they sent"
    );
    let large = hold(&router, 2, ISSUE.len()).await;
    assert_eq!(
        status(&router, delivery(0, APP_SECRET)).await,
        503,
        "two unfinished large bodies leave less than a delivery's size"
    );
    for request in trickling.into_iter().chain(large) {
        assert_eq!(request.await.unwrap(), 408);
    }
    assert_eq!(
        status(&router, delivery(0, APP_SECRET)).await,
        202,
        "the budget is whole again once the unfinished bodies are cut off"
    );
}
