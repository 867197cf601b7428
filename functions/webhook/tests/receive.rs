//! `POST /webhooks/github` against real PostgreSQL with GitHub's own example payloads
//! (`tests/fixtures/github-webhooks`, from octokit/webhooks), each signed here as GitHub would.

use std::{path::PathBuf, sync::Arc};

use axum::{Router, body::Body, http::Request};
use dashboard_shared::{
    TenantId,
    crypto::{SecretBox, webhook_secret_context},
    jobs::Transport,
    testing,
};
use dashboard_webhook::{AppState, WebhookConfig, router, signature::sign};
use http_body_util::BodyExt as _;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;
use tower::ServiceExt as _;
use uuid::Uuid;

#[path = "receive/routing.rs"]
mod routing;

const SECRET: &str = "test-webhook-secret";
const PREVIOUS_SECRET: &str = "the-secret-before-rotation";
const APP_ID: u64 = 29310;
const HOOK_KEY: [u8; 32] = [42; 32];
/// The repositories and installations the fixtures are about.
const HELLO_WORLD: i64 = 186_853_002;
const OTHER_REPO: i64 = 186_853_261;

struct TestApp {
    admin: PgPool,
    router: Router,
}

impl TestApp {
    fn new(admin: PgPool) -> Self {
        let config = WebhookConfig {
            app_secrets: vec![
                SecretString::from(SECRET),
                SecretString::from(PREVIOUS_SECRET),
            ],
            app_id: Some(APP_ID),
            secret_box: Some(SecretBox::from_key(&HOOK_KEY)),
        };
        let db = testing::runtime_db(&admin);
        let state = AppState::new(db.clone(), Arc::new(config), Transport::Postgres(db));
        Self {
            admin,
            router: router(state),
        }
    }

    /// Sends a request; returns the status and the JSON (or text) body.
    async fn send(&self, request: Request<Body>) -> (u16, Value) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)));
        (status, body)
    }

    /// Delivers `body` as event `event`, signed with the current secret.
    async fn deliver(&self, event: &str, body: &[u8]) -> (u16, Value) {
        self.send(delivery(
            event,
            &Uuid::new_v4().to_string(),
            body,
            &sign(SECRET, body),
            "application/json",
        ))
        .await
    }

    async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.admin)
            .await
            .unwrap()
    }
}

fn delivery(
    event: &str,
    id: &str,
    body: &[u8],
    signature: &str,
    content_type: &str,
) -> Request<Body> {
    Request::post("/webhooks/github")
        .header("content-type", content_type)
        .header("x-github-event", event)
        .header("x-github-delivery", id)
        .header("x-hub-signature-256", signature)
        .header("x-github-hook-id", "109948940")
        .header("x-github-hook-installation-target-type", "integration")
        .header("x-github-hook-installation-target-id", "29310")
        .header("user-agent", "GitHub-Hookshot/044aadd")
        .body(Body::from(body.to_vec()))
        .unwrap()
}

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github-webhooks");
    let mut all = Vec::new();
    for event in std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
    {
        for file in std::fs::read_dir(event.path()).unwrap().flatten() {
            let name = format!(
                "{}/{}",
                event.file_name().to_string_lossy(),
                file.file_name().to_string_lossy()
            );
            all.push((name, std::fs::read(file.path()).unwrap()));
        }
    }
    all.sort();
    all
}

/// One fixture's bytes, by `event/file` name.
fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/github-webhooks")
            .join(name),
    )
    .unwrap()
}

/// Connects GitHub repository `provider_repo_id` to `tenant` through `installation` (recorded as the
/// tenant's, as the verified installation flow does).
async fn connect_repository(
    admin: &PgPool,
    tenant: TenantId,
    provider_repo_id: i64,
    installation: i64,
) -> Uuid {
    testing::create_installation(admin, tenant, installation).await;
    sqlx::query_scalar(
        "insert into app.repositories (tenant_id, provider, provider_repo_id, installation_id, full_name, clone_url, default_branch)
         values ($1, 'github', $2, $3, 'Codertocat/Hello-World', 'https://github.com/Codertocat/Hello-World.git', 'master')
         returning id",
    )
    .bind(tenant)
    .bind(provider_repo_id)
    .bind(installation)
    .fetch_one(admin)
    .await
    .unwrap()
}

/// What a fixture must cause for a tenant that connected its repository: the delivery's status and
/// the kinds of the jobs it enqueues. Written from the product's rules, not from the code.
fn expected(name: &str, payload: &Value) -> (&'static str, Vec<&'static str>) {
    let event = name.split('/').next().unwrap();
    let action = payload["action"].as_str().unwrap_or("");
    match event {
        "push" if payload["deleted"] == true => ("ignored", vec![]),
        "push" => ("received", vec!["ingest_push", "scan_repository"]),
        "issues" | "pull_request" => ("received", vec!["ingest_issue"]),
        "repository" if action == "renamed" => ("received", vec!["scan_repository"]),
        "repository" => ("processed", vec![]),
        "installation" if matches!(action, "created" | "new_permissions_accepted") => {
            ("received", vec!["scan_repository"])
        }
        _ => ("ignored", vec![]),
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn every_fixture_is_accepted_and_stored_with_its_jobs(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let b = testing::create_tenant(&admin, "tenant-b").await;
    connect_repository(&admin, a, HELLO_WORLD, 1).await;
    connect_repository(&admin, a, OTHER_REPO, 1).await;
    // B's row for the same repository id is connected through B's own installation.
    connect_repository(&admin, b, HELLO_WORLD, 957_387).await;

    let fixtures = fixtures();
    assert_eq!(fixtures.len(), 115);
    let mut unrouted = 0;
    for (name, body) in &fixtures {
        let event = name.split('/').next().unwrap();
        let payload: Value = serde_json::from_slice(body).unwrap();
        let (status, receipt) = app.deliver(event, body).await;
        assert_eq!(status, 202, "{name}: {receipt}");

        let repo = payload["repository"]["id"].as_i64();
        let installation = payload["installation"]["id"].as_i64();
        // An App delivery reaches only what its own installation connected; none carries B's
        // installation with a repository, and those without an installation reach nobody.
        let routed_to = match (repo, installation) {
            (Some(HELLO_WORLD | OTHER_REPO), Some(1)) => Some(a),
            (None, Some(957_387)) => Some(b),
            _ => None,
        };
        assert_eq!(
            receipt["tenants"],
            u64::from(routed_to.is_some()),
            "{name}: {receipt}"
        );
        let Some(tenant) = routed_to else {
            assert_eq!(receipt["status"], "ignored", "{name}");
            unrouted += 1;
            continue;
        };
        assert_eq!(receipt["status"], "accepted", "{name}");
        let (delivery, status): (Uuid, String) = sqlx::query_as(
            "select id, status from app.webhook_deliveries where tenant_id = $1 order by received_at desc limit 1",
        )
        .bind(tenant)
        .fetch_one(&admin)
        .await
        .unwrap();
        let mut kinds: Vec<String> = sqlx::query_scalar(
            "select kind from app.jobs where tenant_id = $1 and status = 'queued' order by kind",
        )
        .bind(tenant)
        .fetch_all(&admin)
        .await
        .unwrap();
        kinds.sort();
        let (expected_status, expected_kinds) = expected(name, &payload);
        assert_eq!(
            (status.as_str(), kinds),
            (
                expected_status,
                expected_kinds.iter().map(|k| k.to_string()).collect()
            ),
            "{name}"
        );
        if expected_kinds.iter().any(|k| k.starts_with("ingest_")) {
            let claim: Value = sqlx::query_scalar(
                "select payload from app.jobs where tenant_id = $1 and kind like 'ingest_%' and status = 'queued'",
            )
            .bind(tenant)
            .fetch_one(&admin)
            .await
            .unwrap();
            assert_eq!(
                claim["delivery"],
                json!(delivery),
                "{name}: the job must point at its delivery"
            );
        }
        // Workers finished: pending jobs no longer deduplicate the next fixture's.
        sqlx::query("update app.jobs set status = 'done'")
            .execute(&admin)
            .await
            .unwrap();
    }
    assert_eq!(
        app.count("select count(*) from app.unrouted_deliveries")
            .await,
        unrouted
    );
    let stored = app
        .count("select count(*) from app.webhook_deliveries")
        .await;
    assert_eq!(stored, 115 - unrouted);
    let bodies_intact = app
        .count("select count(*) from app.webhook_deliveries where body = convert_to(convert_from(body, 'UTF8'), 'UTF8')")
        .await;
    assert!(bodies_intact > 0);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn signatures_are_checked_on_the_raw_body_with_every_active_secret(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let body = br#"{"zen":"Design for failure.","hook_id":1}"#;
    let id = || Uuid::new_v4().to_string();

    let tampered = delivery(
        "ping",
        &id(),
        br#"{"zen":"Design for failure!","hook_id":1}"#,
        &sign(SECRET, body),
        "application/json",
    );
    let (status, problem) = app.send(tampered).await;
    assert_eq!(status, 401);
    assert_eq!(problem["detail"], "authentication required");

    let wrong_secret = delivery(
        "ping",
        &id(),
        body,
        &sign("not-our-secret", body),
        "application/json",
    );
    let (status, second_problem) = app.send(wrong_secret).await;
    assert_eq!(
        (status, &second_problem),
        (401, &problem),
        "every rejection looks the same"
    );

    let malformed = delivery(
        "ping",
        &id(),
        body,
        "sha1=0123456789abcdef",
        "application/json",
    );
    assert_eq!(app.send(malformed).await.0, 401);

    let rotated = delivery(
        "ping",
        &id(),
        body,
        &sign(PREVIOUS_SECRET, body),
        "application/json",
    );
    assert_eq!(
        app.send(rotated).await.0,
        202,
        "the previous secret still verifies during a rotation"
    );
    assert_eq!(
        app.count("select count(*) from app.unrouted_deliveries")
            .await,
        1,
        "only the verified ping is stored"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_form_encoded_delivery_is_verified_on_the_form_and_stored(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    connect_repository(&admin, tenant, HELLO_WORLD, 1).await;
    let json = fixture("issues/assigned.with-installation.payload.json");
    let form = serde_urlencoded::to_string([("payload", String::from_utf8(json.clone()).unwrap())])
        .unwrap();
    let request = delivery(
        "issues",
        &Uuid::new_v4().to_string(),
        form.as_bytes(),
        &sign(SECRET, form.as_bytes()),
        "application/x-www-form-urlencoded",
    );
    let (status, receipt) = app.send(request).await;
    assert_eq!(
        (status, receipt["status"].as_str()),
        (202, Some("accepted"))
    );
    assert_eq!(
        app.count("select count(*) from app.jobs where kind = 'ingest_issue'")
            .await,
        1
    );
    let stored: Vec<u8> = sqlx::query_scalar("select body from app.webhook_deliveries")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert!(
        stored == json,
        "the decoded JSON is stored, not the form; stored: {:?}…",
        String::from_utf8_lossy(&stored[..stored.len().min(40)])
    );

    let text = b"zen=hello";
    let plain = delivery(
        "ping",
        &Uuid::new_v4().to_string(),
        text,
        &sign(SECRET, text),
        "text/plain",
    );
    let (status, problem) = app.send(plain).await;
    assert_eq!(status, 415);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("application/json"),
        "{problem}"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn bodies_up_to_25_mib_are_accepted_and_larger_ones_refused(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let limit = 25 * 1024 * 1024;
    let padded = |size: usize| {
        let mut body = br#"{"zen":""#.to_vec();
        body.resize(size - 2, b'a');
        body.extend_from_slice(br#""}"#);
        body
    };
    let at_limit = padded(limit);
    assert_eq!(at_limit.len(), limit);
    let (status, receipt) = app.deliver("ping", &at_limit).await;
    assert_eq!((status, receipt["status"].as_str()), (202, Some("ignored")));
    let stored: i64 = app
        .count("select max(length(body))::bigint from app.unrouted_deliveries")
        .await;
    assert_eq!(stored, limit as i64);

    let (status, problem) = app.deliver("ping", &padded(limit + 1)).await;
    assert_eq!(status, 413, "{problem}");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_same_delivery_twice_is_stored_once(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    connect_repository(&admin, tenant, HELLO_WORLD, 1).await;
    let body = fixture("push/with-new-branch.payload.json");
    let id = Uuid::new_v4().to_string();
    let first = app
        .send(delivery(
            "push",
            &id,
            &body,
            &sign(SECRET, &body),
            "application/json",
        ))
        .await;
    let again = app
        .send(delivery(
            "push",
            &id,
            &body,
            &sign(SECRET, &body),
            "application/json",
        ))
        .await;
    assert_eq!(
        (first.0, first.1["status"].as_str()),
        (202, Some("accepted"))
    );
    assert_eq!(
        (again.0, again.1["status"].as_str()),
        (202, Some("duplicate"))
    );
    assert_eq!(
        app.count("select count(*) from app.webhook_deliveries")
            .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from app.jobs where kind = 'ingest_push'")
            .await,
        1
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn unknown_events_are_kept_and_acknowledged(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    connect_repository(&admin, tenant, HELLO_WORLD, 1).await;
    let body = br#"{"action":"levitated","repository":{"id":186853002},"installation":{"id":1}}"#;
    let (status, receipt) = app.deliver("workflow_teleport", body).await;
    assert_eq!(
        (status, receipt["status"].as_str()),
        (202, Some("accepted"))
    );
    let stored: (String, String) =
        sqlx::query_as("select event, status from app.webhook_deliveries")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(stored, ("workflow_teleport".into(), "ignored".into()));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn missing_or_empty_headers_are_a_bad_request(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let body = br#"{"zen":"x"}"#;
    for header in ["x-github-event", "x-github-delivery", "x-hub-signature-256"] {
        for value in [None, Some("")] {
            let mut request = delivery(
                "ping",
                &Uuid::new_v4().to_string(),
                body,
                &sign(SECRET, body),
                "application/json",
            );
            match value {
                None => request.headers_mut().remove(header),
                Some(v) => request.headers_mut().insert(header, v.parse().unwrap()),
            };
            let (status, problem) = app.send(request).await;
            assert_eq!(status, 400, "{header}={value:?}");
            assert!(
                problem["detail"]
                    .as_str()
                    .unwrap()
                    .contains(header.trim_start_matches("x-"))
                    || problem["detail"]
                        .as_str()
                        .unwrap()
                        .to_lowercase()
                        .contains(header),
                "{problem}"
            );
        }
    }
    assert_eq!(
        app.count("select count(*) from app.unrouted_deliveries")
            .await,
        0
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_ping_from_another_github_app_is_refused(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let ours = fixture("ping/with-app_id.payload.json");
    assert_eq!(app.deliver("ping", &ours).await.0, 202);
    let theirs = String::from_utf8(ours).unwrap().replace("29310", "4242");
    assert_eq!(app.deliver("ping", theirs.as_bytes()).await.0, 401);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_push_delivery_ends_with_its_commits_stored_and_linking_enqueued(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    connect_repository(&admin, tenant, HELLO_WORLD, 1).await;
    let mut push: Value =
        serde_json::from_slice(&fixture("push/with-new-branch.payload.json")).unwrap();
    let template = push["commits"][0].clone();
    let commits: Vec<Value> = (0..3)
        .map(|i| {
            let mut commit = template.clone();
            commit["id"] = json!(format!("{i:x}").repeat(40)[..40].to_string());
            commit["message"] = json!(format!("Fixes TASK-DEMO-{i}"));
            commit
        })
        .collect();
    push["commits"] = json!(commits);
    let body = serde_json::to_vec(&push).unwrap();
    assert_eq!(
        app.count("select count(*) from app.repositories where last_delivery_at is not null")
            .await,
        0
    );
    assert_eq!(app.deliver("push", &body).await.0, 202);
    assert_eq!(
        app.count("select count(*) from app.repositories where last_delivery_at is not null")
            .await,
        1,
        "the repository's health shows the delivery"
    );
    // The same commits pushed to another branch: nothing new to store.
    push["ref"] = json!("refs/heads/feature");
    assert_eq!(
        app.deliver("push", &serde_json::to_vec(&push).unwrap())
            .await
            .0,
        202
    );

    let db = testing::runtime_db(&admin);
    let ctx = dashboard_linker::LinkerContext {
        db: db.clone(),
        transport: Transport::Postgres(db),
        github: None,
        semantic: None,
    };
    let ran = dashboard_linker::worker(ctx).drain().await.unwrap();
    assert_eq!(ran, 3, "two pushes ingested, the new commits linked once");
    let messages: Vec<String> =
        sqlx::query_scalar("select message from app.commits order by message")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(
        messages,
        [
            "Fixes TASK-DEMO-0",
            "Fixes TASK-DEMO-1",
            "Fixes TASK-DEMO-2"
        ]
    );
    let link_jobs: Vec<Value> =
        sqlx::query_scalar("select payload from app.jobs where kind = 'link_commits'")
            .fetch_all(&admin)
            .await
            .unwrap();
    assert_eq!(
        link_jobs.len(),
        1,
        "only the first push brought new commits"
    );
    assert_eq!(link_jobs[0]["commits"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.count("select count(*) from app.webhook_deliveries where status = 'processed'")
            .await,
        2
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn repository_hooks_use_their_own_secrets_and_belong_to_their_tenant(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let b = testing::create_tenant(&admin, "tenant-b").await;
    let repo_a = connect_repository(&admin, a, HELLO_WORLD, 1).await;
    connect_repository(&admin, b, HELLO_WORLD, 2).await; // B follows the same repository id through the App
    let secret_box = SecretBox::from_key(&HOOK_KEY);
    let context = webhook_secret_context(a.as_uuid(), repo_a);
    sqlx::query(
        "update app.repositories set webhook_hook_id = 555, webhook_secret_encrypted = $2,
                webhook_secret_previous_encrypted = $3 where id = $1",
    )
    .bind(repo_a)
    .bind(secret_box.seal(b"current-hook-secret", &context))
    .bind(secret_box.seal(b"previous-hook-secret", &context))
    .execute(&admin)
    .await
    .unwrap();

    let body = fixture("issues/opened.payload.json");
    let from_hook = |hook_id: &str, secret: &str| {
        let mut request = delivery(
            "issues",
            &Uuid::new_v4().to_string(),
            &body,
            &sign(secret, &body),
            "application/json",
        );
        let headers = request.headers_mut();
        headers.insert("x-github-hook-id", hook_id.parse().unwrap());
        headers.insert(
            "x-github-hook-installation-target-type",
            "repository".parse().unwrap(),
        );
        headers.insert(
            "x-github-hook-installation-target-id",
            HELLO_WORLD.to_string().parse().unwrap(),
        );
        request
    };
    let (status, receipt) = app.send(from_hook("555", "current-hook-secret")).await;
    assert_eq!(
        (status, receipt["tenants"].as_u64()),
        (202, Some(1)),
        "only the hook's tenant: {receipt}"
    );
    let (status, _) = app.send(from_hook("555", "previous-hook-secret")).await;
    assert_eq!(
        status, 202,
        "the previous hook secret still verifies during a rotation"
    );

    let (status, with_app_secret) = app.send(from_hook("555", SECRET)).await;
    assert_eq!(
        status, 401,
        "a hook's deliveries are checked with the hook's secrets only"
    );
    let (status, unknown_hook) = app.send(from_hook("556", "current-hook-secret")).await;
    assert_eq!(
        (status, &unknown_hook),
        (401, &with_app_secret),
        "an unknown hook looks like a bad signature"
    );

    let per_tenant: Vec<(String, i64)> = sqlx::query_as(
        "select t.slug, count(w.id) from app.tenants t left join app.webhook_deliveries w on w.tenant_id = t.id
         group by t.slug order by t.slug",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        per_tenant,
        [("tenant-a".to_owned(), 2), ("tenant-b".to_owned(), 0)]
    );
}

/// POSTs `envelope` to the linker's push endpoint; returns the status.
async fn push(linker: &Router, envelope: &Value) -> u16 {
    let request = Request::post("/jobs/push")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(envelope).unwrap()))
        .unwrap();
    linker
        .clone()
        .oneshot(request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn with_pubsub_a_push_flows_through_published_claim_checks(admin: PgPool) {
    use dashboard_shared::{
        jobs::Queue,
        testing::pubsub::{RecordingPublisher, push_envelope},
    };

    let (transport, published) = RecordingPublisher::transport();
    let mut app = TestApp::new(admin.clone());
    let db = testing::runtime_db(&admin);
    let config = WebhookConfig {
        app_secrets: vec![SecretString::from(SECRET)],
        app_id: None,
        secret_box: None,
    };
    app.router = router(AppState::new(
        db.clone(),
        Arc::new(config),
        transport.clone(),
    ));
    let linker = dashboard_linker::router(dashboard_linker::LinkerContext {
        db,
        transport,
        github: None,
        semantic: None,
    });
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    connect_repository(&admin, tenant, HELLO_WORLD, 1).await;

    let body = fixture("push/with-new-branch.payload.json");
    assert_eq!(app.deliver("push", &body).await.0, 202);
    let sent = published.take();
    let queues: Vec<Queue> = sent.iter().map(|(q, _)| *q).collect();
    assert_eq!(
        queues,
        [Queue::Link, Queue::Scan],
        "published before the 202, one message per job"
    );
    let ingest = push_envelope(&sent[0].1, "1");

    assert_eq!(push(&linker, &ingest).await, 204);
    assert_eq!(app.count("select count(*) from app.commits").await, 1);
    let next = published.take();
    assert_eq!(next.len(), 1);
    assert_eq!(
        next[0].1.attributes["kind"], "link_commits",
        "the ingested commits' linking is published"
    );
    // Pub/Sub delivers at least once: the same message again changes nothing.
    assert_eq!(push(&linker, &ingest).await, 204);
    assert_eq!(app.count("select count(*) from app.commits").await, 1);
    assert!(published.take().is_empty());

    // A job that fails answers 5xx (Pub/Sub retries), and after its fifth failure it is dead (2xx).
    sqlx::query("update app.webhook_deliveries set body = 'not json', status = 'received'")
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query("update app.jobs set status = 'queued' where kind = 'ingest_push'")
        .execute(&admin)
        .await
        .unwrap();
    for attempt in 1..=5 {
        let expected = if attempt < 5 { 503 } else { 204 };
        assert_eq!(push(&linker, &ingest).await, expected, "attempt {attempt}");
    }
    assert_eq!(
        app.count("select count(*) from app.jobs where kind = 'ingest_push' and status = 'dead'")
            .await,
        1
    );

    // The sweeper re-publishes a job whose message was lost.
    sqlx::query(
        "update app.jobs set updated_at = now() - interval '1 hour' where kind = 'scan_repository'",
    )
    .execute(&admin)
    .await
    .unwrap();
    let sweep = Request::post("/jobs/sweep").body(Body::empty()).unwrap();
    assert_eq!(
        linker
            .clone()
            .oneshot(sweep)
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    let swept: Vec<String> = published
        .take()
        .iter()
        .map(|(_, m)| m.attributes["kind"].clone())
        .collect();
    assert!(swept.contains(&"scan_repository".to_owned()), "{swept:?}");

    let garbage =
        json!({ "message": { "data": "bm90IGEgam9i", "messageId": "9" }, "subscription": "s" });
    assert_eq!(push(&linker, &garbage).await, 400);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_rotated_hook_secret_keeps_the_previous_one_active(admin: PgPool) {
    use dashboard_shared::hook_secrets::rotate_webhook_secret;
    use secrecy::ExposeSecret as _;

    let app = TestApp::new(admin.clone());
    let tenant = testing::create_tenant(&admin, "tenant-a").await;
    let repository = connect_repository(&admin, tenant, HELLO_WORLD, 1).await;
    sqlx::query("update app.repositories set webhook_hook_id = 777 where id = $1")
        .bind(repository)
        .execute(&admin)
        .await
        .unwrap();
    let db = testing::runtime_db(&admin);
    let secret_box = SecretBox::from_key(&HOOK_KEY);
    let mut secrets = Vec::new();
    for _ in 0..3 {
        let mut tx = db.tenant(tenant).await.unwrap();
        secrets.push(
            rotate_webhook_secret(&mut tx, &secret_box, repository)
                .await
                .unwrap()
                .unwrap(),
        );
        tx.commit().await.unwrap();
    }
    assert_eq!(secrets[2].expose_secret().len(), 64, "32 random bytes, hex");
    let stored: Vec<u8> =
        sqlx::query_scalar("select webhook_secret_encrypted from app.repositories")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert!(
        !stored.windows(16).any(|w| secrets[2]
            .expose_secret()
            .as_bytes()
            .windows(16)
            .any(|s| s == w)),
        "stored sealed"
    );

    let body =
        br#"{"zen":"Keep it logically awesome.","hook_id":777,"repository":{"id":186853002}}"#;
    let signed_with = |secret: &SecretString| {
        let mut request = delivery(
            "ping",
            &Uuid::new_v4().to_string(),
            body,
            &sign(secret.expose_secret(), body),
            "application/json",
        );
        request
            .headers_mut()
            .insert("x-github-hook-id", "777".parse().unwrap());
        request.headers_mut().insert(
            "x-github-hook-installation-target-type",
            "repository".parse().unwrap(),
        );
        request
    };
    assert_eq!(
        app.send(signed_with(&secrets[2])).await.0,
        202,
        "the new secret"
    );
    assert_eq!(
        app.send(signed_with(&secrets[1])).await.0,
        202,
        "the previous secret, during the rotation"
    );
    assert_eq!(
        app.send(signed_with(&secrets[0])).await.0,
        401,
        "two rotations ago: retired"
    );
    let mut other = db
        .tenant(testing::create_tenant(&admin, "tenant-b").await)
        .await
        .unwrap();
    assert!(
        rotate_webhook_secret(&mut other, &secret_box, repository)
            .await
            .unwrap()
            .is_none(),
        "another tenant's repository"
    );
}
