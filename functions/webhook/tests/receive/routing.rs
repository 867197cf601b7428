//! App deliveries reach only what their own installation connected: a repository transferred or moved
//! between installations stops reaching the organization it left; archived repositories receive and
//! ingest nothing; an installation's lifecycle detaches, stops and resumes only its own rows.

use super::*;

/// Push fixture for `HELLO_WORLD` on its default branch, with one commit.
const PUSH: &str = "push/with-new-branch.payload.json";

/// A fixture as JSON with its `installation.id` replaced.
fn with_installation(name: &str, installation: i64) -> Value {
    let mut payload: Value = serde_json::from_slice(&fixture(name)).unwrap();
    payload["installation"] = json!({ "id": installation });
    payload
}

async fn deliver(app: &TestApp, event: &str, payload: &Value) -> Value {
    let (status, receipt) = app
        .deliver(event, &serde_json::to_vec(payload).unwrap())
        .await;
    assert_eq!(status, 202, "{receipt}");
    receipt
}

/// The kinds of the jobs queued for `tenant`, sorted.
async fn queued(admin: &PgPool, tenant: TenantId) -> Vec<String> {
    sqlx::query_scalar(
        "select kind from app.jobs where tenant_id = $1 and status = 'queued' order by kind",
    )
    .bind(tenant)
    .fetch_all(admin)
    .await
    .unwrap()
}

/// The row's installation, whether it is archived, and why.
async fn state(admin: &PgPool, repository: Uuid) -> (Option<i64>, bool, Option<String>) {
    sqlx::query_as(
        "select installation_id, archived, archived_reason from app.repositories where id = $1",
    )
    .bind(repository)
    .fetch_one(admin)
    .await
    .unwrap()
}

async fn finish_jobs(admin: &PgPool) {
    sqlx::query("update app.jobs set status = 'done'")
        .execute(admin)
        .await
        .unwrap();
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_push_reaches_only_the_organization_whose_installation_it_carries(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let b = testing::create_tenant(&admin, "tenant-b").await;
    // The repository moved from A's installation to B's: A's row is stale, B's is current.
    connect_repository(&admin, a, HELLO_WORLD, 1).await;
    connect_repository(&admin, b, HELLO_WORLD, 2).await;

    let receipt = deliver(&app, "push", &with_installation(PUSH, 2)).await;
    assert_eq!(receipt["tenants"], 1, "{receipt}");
    assert_eq!(queued(&admin, a).await, Vec::<String>::new());
    assert_eq!(queued(&admin, b).await, ["ingest_push", "scan_repository"]);
    let stored_for: Vec<String> = sqlx::query_scalar(
        "select t.slug from app.webhook_deliveries w join app.tenants t on t.id = w.tenant_id",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(stored_for, ["tenant-b"]);

    let receipt = deliver(&app, "push", &with_installation(PUSH, 3)).await;
    assert_eq!(
        (receipt["status"].as_str(), receipt["tenants"].as_u64()),
        (Some("ignored"), Some(0)),
        "an installation nobody owns reaches nobody"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_transferred_or_removed_repository_is_detached_and_receives_nothing_more(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let hello = connect_repository(&admin, a, HELLO_WORLD, 1).await;
    let other = connect_repository(&admin, a, OTHER_REPO, 1).await;

    let transferred = with_installation("repository/transferred.with-installation.payload.json", 1);
    let receipt = deliver(&app, "repository", &transferred).await;
    assert_eq!(receipt["tenants"], 1, "{receipt}");
    assert_eq!(
        state(&admin, other).await,
        (None, true, Some("detached".into()))
    );
    assert_eq!(queued(&admin, a).await, Vec::<String>::new(), "no rescan");

    let mut removed = with_installation("installation_repositories/removed.payload.json", 1);
    removed["repositories_removed"] =
        json!([{ "id": HELLO_WORLD, "full_name": "Codertocat/Hello-World" }]);
    deliver(&app, "installation_repositories", &removed).await;
    assert_eq!(
        state(&admin, hello).await,
        (None, true, Some("detached".into()))
    );

    let receipt = deliver(&app, "push", &with_installation(PUSH, 1)).await;
    assert_eq!(
        receipt["tenants"], 0,
        "a detached repository receives nothing"
    );
    assert_eq!(queued(&admin, a).await, Vec::<String>::new());

    // Added back to the installation: attached again and rescanned.
    let mut added = with_installation("installation_repositories/added.payload.json", 1);
    added["repositories_added"] =
        json!([{ "id": HELLO_WORLD, "full_name": "Codertocat/Hello-World" }]);
    deliver(&app, "installation_repositories", &added).await;
    assert_eq!(state(&admin, hello).await, (Some(1), false, None));
    assert_eq!(queued(&admin, a).await, ["scan_repository"]);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_uninstalled_installation_detaches_its_repositories_and_is_forgotten(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let hello = connect_repository(&admin, a, HELLO_WORLD, 1).await;

    let deleted = with_installation("installation/deleted.payload.json", 1);
    let receipt = deliver(&app, "installation", &deleted).await;
    assert_eq!(receipt["tenants"], 1, "{receipt}");
    assert_eq!(
        state(&admin, hello).await,
        (None, true, Some("detached".into()))
    );
    assert_eq!(app.count("select count(*) from app.installations").await, 0);
    let receipt = deliver(&app, "push", &with_installation(PUSH, 1)).await;
    assert_eq!(receipt["tenants"], 0, "{receipt}");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_archived_repository_gets_no_jobs_until_it_is_unarchived(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let hello = connect_repository(&admin, a, HELLO_WORLD, 1).await;
    let mut archived = with_installation("repository/publicized.payload.json", 1);
    archived["action"] = json!("archived");
    deliver(&app, "repository", &archived).await;
    assert_eq!(
        state(&admin, hello).await,
        (Some(1), true, Some("archived_on_github".into()))
    );

    for (event, name) in [
        ("push", PUSH),
        ("issues", "issues/assigned.with-installation.payload.json"),
        ("repository", "repository/renamed.payload.json"),
    ] {
        let mut payload = with_installation(name, 1);
        payload["repository"]["id"] = json!(HELLO_WORLD);
        let receipt = deliver(&app, event, &payload).await;
        assert_eq!(receipt["tenants"], 0, "{name}: {receipt}");
    }
    assert_eq!(queued(&admin, a).await, Vec::<String>::new());

    archived["action"] = json!("unarchived");
    let receipt = deliver(&app, "repository", &archived).await;
    assert_eq!(
        receipt["tenants"], 1,
        "unarchiving reaches the archived row"
    );
    assert_eq!(state(&admin, hello).await, (Some(1), false, None));
    assert_eq!(queued(&admin, a).await, ["scan_repository"]);
    finish_jobs(&admin).await;
    deliver(&app, "push", &with_installation(PUSH, 1)).await;
    assert_eq!(queued(&admin, a).await, ["ingest_push", "scan_repository"]);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_linker_ingests_nothing_into_a_repository_archived_after_the_push(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    connect_repository(&admin, a, HELLO_WORLD, 1).await;
    deliver(&app, "push", &with_installation(PUSH, 1)).await;
    let mut archived = with_installation("repository/publicized.payload.json", 1);
    archived["action"] = json!("archived");
    deliver(&app, "repository", &archived).await;

    let db = testing::runtime_db(&admin);
    let ctx = dashboard_linker::LinkerContext {
        db: db.clone(),
        transport: Transport::Postgres(db),
        github: None,
        semantic: None,
    };
    assert_eq!(dashboard_linker::worker(ctx).drain().await.unwrap(), 1);
    assert_eq!(app.count("select count(*) from app.commits").await, 0);
    let status: String =
        sqlx::query_scalar("select status from app.webhook_deliveries where event = 'push'")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(status, "ignored");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn unsuspending_an_installation_resumes_only_what_the_suspension_stopped(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let hello = connect_repository(&admin, a, HELLO_WORLD, 1).await;
    let other = connect_repository(&admin, a, OTHER_REPO, 1).await;
    let mut archived = with_installation("repository/renamed.payload.json", 1);
    archived["action"] = json!("archived");
    deliver(&app, "repository", &archived).await;
    finish_jobs(&admin).await;

    deliver(
        &app,
        "installation",
        &with_installation("installation/suspend.payload.json", 1),
    )
    .await;
    assert_eq!(
        state(&admin, hello).await,
        (Some(1), true, Some("installation_suspended".into()))
    );
    assert_eq!(
        state(&admin, other).await,
        (Some(1), true, Some("archived_on_github".into()))
    );

    let unsuspend = with_installation("installation/unsuspend.payload.json", 1);
    deliver(&app, "installation", &unsuspend).await;
    assert_eq!(state(&admin, hello).await, (Some(1), false, None));
    assert_eq!(
        state(&admin, other).await,
        (Some(1), true, Some("archived_on_github".into())),
        "archived on GitHub: the unsuspension does not resume it"
    );
    assert_eq!(queued(&admin, a).await, ["scan_repository"]);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn installation_events_reach_only_tenants_in_good_standing(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let hello = connect_repository(&admin, a, HELLO_WORLD, 1).await;
    sqlx::query("update app.tenants set subscription_status = 'canceled' where id = $1")
        .bind(a)
        .execute(&admin)
        .await
        .unwrap();
    let suspend = with_installation("installation/suspend.payload.json", 1);
    let receipt = deliver(&app, "installation", &suspend).await;
    assert_eq!(receipt["tenants"], 0, "{receipt}");
    assert_eq!(state(&admin, hello).await, (Some(1), false, None));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_form_encoded_signed_push_ends_as_stored_linked_commits(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let hello = connect_repository(&admin, a, HELLO_WORLD, 1).await;
    sqlx::query(
        "insert into app.tasks (tenant_id, repository_id, source, external_key, title)
         values ($1, $2, 'tasklist', 'TASK-DEMO-1', 'Greet the world')",
    )
    .bind(a)
    .bind(hello)
    .execute(&admin)
    .await
    .unwrap();
    let mut push = with_installation(PUSH, 1);
    push["commits"][0]["message"] = json!("Greet the world, refs TASK-DEMO-1");
    let form = serde_urlencoded::to_string([("payload", push.to_string())]).unwrap();
    let request = delivery(
        "push",
        &Uuid::new_v4().to_string(),
        form.as_bytes(),
        &sign(SECRET, form.as_bytes()),
        "application/x-www-form-urlencoded",
    );
    assert_eq!(app.send(request).await.0, 202);

    let db = testing::runtime_db(&admin);
    let ctx = dashboard_linker::LinkerContext {
        db: db.clone(),
        transport: Transport::Postgres(db),
        github: None,
        semantic: None,
    };
    dashboard_linker::worker(ctx).drain().await.unwrap();
    let linked: Vec<(String, String)> = sqlx::query_as(
        "select c.message, t.external_key from app.commit_task_links l
         join app.commits c on c.id = l.commit_id join app.tasks t on t.id = l.task_id",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        linked,
        [(
            "Greet the world, refs TASK-DEMO-1".to_owned(),
            "TASK-DEMO-1".to_owned()
        )]
    );
    assert_eq!(
        app.count(
            "select count(*) from app.jobs where status <> 'done' and kind <> 'scan_repository'"
        )
        .await,
        0,
        "no job failed"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_repository_hook_delivery_about_an_archived_repository_causes_nothing(admin: PgPool) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    let hello = connect_repository(&admin, a, HELLO_WORLD, 1).await;
    let context = webhook_secret_context(a.as_uuid(), hello);
    sqlx::query(
        "update app.repositories set webhook_hook_id = 555, webhook_secret_encrypted = $2,
                archived = true, archived_reason = 'archived_on_github' where id = $1",
    )
    .bind(hello)
    .bind(SecretBox::from_key(&HOOK_KEY).seal(b"hook-secret", &context))
    .execute(&admin)
    .await
    .unwrap();

    let body = fixture(PUSH);
    let mut request = delivery(
        "push",
        &Uuid::new_v4().to_string(),
        &body,
        &sign("hook-secret", &body),
        "application/json",
    );
    let headers = request.headers_mut();
    headers.insert("x-github-hook-id", "555".parse().unwrap());
    headers.insert(
        "x-github-hook-installation-target-type",
        "repository".parse().unwrap(),
    );
    let (status, receipt) = app.send(request).await;
    assert_eq!((status, receipt["tenants"].as_u64()), (202, Some(1)));
    assert_eq!(queued(&admin, a).await, Vec::<String>::new());
    let stored: String = sqlx::query_scalar("select status from app.webhook_deliveries")
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(stored, "ignored");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_followed_installation_connects_the_repositories_added_to_it_up_to_the_plan(
    admin: PgPool,
) {
    let app = TestApp::new(admin.clone());
    let a = testing::create_tenant(&admin, "tenant-a").await;
    testing::create_installation(&admin, a, 1).await;
    let mut added: Value =
        serde_json::from_slice(&fixture("installation_repositories/added.payload.json")).unwrap();
    added["installation"]["id"] = json!(1);
    added["repositories_added"] = json!([
        { "id": 11, "full_name": "Codertocat/One", "private": false },
        { "id": 12, "full_name": "Codertocat/Two", "private": true },
        { "id": 13, "full_name": "Codertocat/Three", "private": false },
        { "id": 14, "full_name": "Codertocat/Four", "private": false },
    ]);

    deliver(&app, "installation_repositories", &added).await;
    assert_eq!(
        app.count("select count(*) from app.repositories").await,
        0,
        "an installation whose selection is not followed connects nothing by itself"
    );

    sqlx::query("update app.installations set follow_selection = true")
        .execute(&admin)
        .await
        .unwrap();
    deliver(&app, "installation_repositories", &added).await;
    let rows: Vec<(String, String, Option<i64>, bool)> = sqlx::query_as(
        "select full_name, clone_url, installation_id, archived from app.repositories order by provider_repo_id",
    )
    .fetch_all(&admin)
    .await
    .unwrap();
    // The free plan allows three repositories: the fourth waits.
    assert_eq!(
        rows,
        [
            ("Codertocat/One", "https://github.com/Codertocat/One.git"),
            ("Codertocat/Two", "https://github.com/Codertocat/Two.git"),
            (
                "Codertocat/Three",
                "https://github.com/Codertocat/Three.git"
            ),
        ]
        .map(|(name, url)| (name.to_owned(), url.to_owned(), Some(1), false))
    );
    assert_eq!(queued(&admin, a).await, ["scan_repository"; 3]);

    // Delivered again: nothing twice.
    finish_jobs(&admin).await;
    deliver(&app, "installation_repositories", &added).await;
    assert_eq!(app.count("select count(*) from app.repositories").await, 3);
}
