//! Repositories through the API: connecting a git remote by URL under the hosted remote policy
//! (each bad field named), the plan's repository limit with its numbers, the list's filters and
//! cursor pages, each repository's sync health, sync now, the poll interval, disconnecting, and
//! another organization's ids answered 404.

use chrono::{DateTime, Utc};
use dashboard_shared::{
    crypto::git_credential_context,
    jobs::{self, kinds::PollRepository},
};
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    support::{Reply, TestApp},
    team::Team,
};

/// Connects `url` to `team` as its admin; the reply.
async fn connect(app: &TestApp, team: &Team, body: Value) -> Reply {
    team.call(app, &team.admin, Method::POST, "/repositories", Some(body))
        .await
}

/// Inserts a repository directly (as the GitHub flows and the scanner leave one); its id.
async fn insert(app: &TestApp, team: &Team, columns: &str, values: &str) -> Uuid {
    let sql = format!(
        "insert into app.repositories (tenant_id, {columns}) values ($1, {values}) returning id"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(team.tenant)
        .fetch_one(&app.admin)
        .await
        .unwrap()
}

fn names(reply: &Reply) -> Vec<&str> {
    reply
        .json
        .as_array()
        .unwrap_or_else(|| panic!("{reply:?}"))
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_admin_connects_a_remote_by_url_and_every_member_sees_its_health(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let body = json!({
        "url": "https://git.example.test/acme/widgets.git",
        "token": "glpat-secretToken123",
        "username": "ci-bot",
        "poll_interval": 600,
    });

    let connected = connect(&app, &team, body.clone()).await;
    assert_eq!(connected.status, StatusCode::CREATED, "{connected:?}");
    let repository = &connected.json;
    assert!(
        !repository.to_string().contains("secretToken"),
        "{repository}"
    );
    assert_eq!(repository["name"], "acme/widgets");
    assert_eq!(repository["provider"], "git");
    assert_eq!(
        repository["url"],
        "https://git.example.test/acme/widgets.git"
    );
    assert_eq!(repository["has_credential"], true);
    assert_eq!(repository["poll_interval_seconds"], 600);
    let health = &repository["health"];
    assert_eq!(health["state"], "pending");
    assert_eq!(
        health["backfill"],
        json!({ "complete": false, "commits": 0 }),
        "nothing fetched yet"
    );
    assert_eq!(
        health["jobs"],
        json!({ "queued": 1, "running": 0, "dead": 0 })
    );
    assert!(
        health["next_poll_at"].is_null(),
        "its first poll is queued: {health}"
    );
    assert!(health["last_scan"].is_null() && health["last_error"].is_null());
    let id: Uuid = repository["id"].as_str().unwrap().parse().unwrap();

    // Sealed to this tenant and repository: the stored bytes do not hold the token.
    let (kind, username, sealed): (String, String, Vec<u8>) = sqlx::query_as(
        "select credential_kind, credential_username, credential_encrypted
         from app.repositories where id = $1",
    )
    .bind(id)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!((kind.as_str(), username.as_str()), ("token", "ci-bot"));
    assert!(!String::from_utf8_lossy(&sealed).contains("secretToken"));
    let opened = app
        .state
        .config
        .secrets
        .open(&sealed, &git_credential_context(team.tenant.as_uuid(), id))
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&opened),
        "glpat-secretToken123"
    );

    let listed = team
        .call(&app, &team.viewer, Method::GET, "/repositories", None)
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    assert_eq!(names(&listed), ["acme/widgets"]);
    let one = team
        .call(
            &app,
            &team.viewer,
            Method::GET,
            format!("/repositories/{id}"),
            None,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json, listed.json[0]);

    let again = connect(&app, &team, json!({ "url": body["url"] })).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "connected once per URL: {again:?}"
    );
    assert_eq!(again.json["id"], repository["id"]);
    assert_eq!(
        again.json["health"]["jobs"]["queued"], 1,
        "the same poll waits"
    );
    assert_eq!(
        team.audit_actions(&app).await[..2],
        ["repository.reconnected", "repository.connected"]
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn connecting_refuses_each_bad_field_by_its_name(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let ok = "https://git.example.test/acme/app.git";
    let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----";
    let cases = [
        (
            json!({ "url": "" }),
            "url: must be a clone URL of 1 to 2048 characters",
        ),
        (
            json!({ "url": "file:///srv/git/app.git" }),
            "url: local paths and file:// remotes are only allowed in local mode (dashboard up, scan, repo)",
        ),
        (
            json!({ "url": "/srv/git/app.git" }),
            "url: local paths and file:// remotes are only allowed in local mode (dashboard up, scan, repo)",
        ),
        (
            json!({ "url": "http://git.example.test/a/b.git" }),
            "url: plain http is only allowed to loopback; use https",
        ),
        (
            json!({ "url": "https://10.0.0.7/a/b.git" }),
            "url: refusing 10.0.0.7: a private address",
        ),
        (
            json!({ "url": "https://metadata.google.internal/a/b.git" }),
            "url: refusing metadata.google.internal: the metadata server",
        ),
        (
            json!({ "url": "ext::sh -c touch% /tmp/pwned" }),
            "url: ext:: remotes run a command: never fetched",
        ),
        (
            json!({ "url": "https://git.example.test/" }),
            "url: `https://git.example.test/` names no repository",
        ),
        (
            json!({ "url": "https://git.example.test/a/b.git?private_token=x" }),
            "url: the URL holds a query or fragment: a clone URL has neither (give a token separately)",
        ),
        (
            json!({ "url": ok, "name": " " }),
            "name: must be 1 to 300 characters",
        ),
        (
            json!({ "url": ok, "token": "a", "ssh_key": key }),
            "ssh_key: give a token or an SSH key, not both",
        ),
        (
            json!({ "url": ok, "token": "two words" }),
            "token: must be 1 to 4096 visible characters, without spaces",
        ),
        (
            json!({ "url": ok, "token": "t", "username": "a b" }),
            "username: must be 1 to 255 visible characters, without spaces",
        ),
        (
            json!({ "url": ok, "username": "me" }),
            "username: goes with a token",
        ),
        (
            json!({ "url": ok, "ssh_key": "not a key" }),
            "ssh_key: not a private key in OpenSSH or PEM format",
        ),
        (
            json!({ "url": ok, "ssh_key": key }),
            "ssh_key: an SSH key is for ssh remotes (ssh://… or user@host:path)",
        ),
        (
            json!({ "url": ok, "poll_interval": 5 }),
            "poll_interval: must be between 30 and 86400 seconds, not 5",
        ),
    ];
    for (body, detail) in cases {
        let reply = connect(&app, &team, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {reply:?}"
        );
        assert_eq!(reply.json["detail"], detail, "{body}");
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
    // A token in the URL is refused without being repeated.
    let leaked = connect(
        &app,
        &team,
        json!({ "url": "https://me:hunter2@git.example.test/a/b.git" }),
    )
    .await;
    assert_eq!(leaked.status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = leaked.json["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("url: the URL holds a password"),
        "{detail}"
    );
    assert!(!detail.contains("hunter2"), "{detail}");

    let ssh = connect(
        &app,
        &team,
        json!({ "url": "git@git.example.test:acme/app.git", "ssh_key": key }),
    )
    .await;
    assert_eq!(
        ssh.status,
        StatusCode::CREATED,
        "an ssh remote takes a key: {ssh:?}"
    );
    let none: i64 = sqlx::query_scalar("select count(*) from app.repositories")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(none, 1, "nothing refused was stored");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_plan_limits_connected_repositories_and_says_by_how_much(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    sqlx::query("update app.tenants set max_repositories = 2 where id = $1")
        .bind(team.tenant)
        .execute(&app.admin)
        .await
        .unwrap();
    let url = |n: u32| json!({ "url": format!("https://git.example.test/acme/r{n}.git") });
    for n in 1..=2 {
        assert_eq!(
            connect(&app, &team, url(n)).await.status,
            StatusCode::CREATED
        );
    }

    let refused = connect(&app, &team, url(3)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(
        refused.json["detail"],
        "plan limit reached: the pro plan allows 2 repositories (max_repositories) and 2 are connected"
    );
    let plan = team
        .call(&app, &team.viewer, Method::GET, "/plan", None)
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{plan:?}");
    assert_eq!(plan.json["plan"], "pro");
    assert_eq!(plan.json["limits"]["repositories"], 2);
    assert_eq!(plan.json["usage"]["repositories"], 2);

    let first = connect(&app, &team, url(1)).await.json["id"].clone();
    let gone = team
        .call(
            &app,
            &team.admin,
            Method::DELETE,
            format!("/repositories/{}", first.as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        connect(&app, &team, url(3)).await.status,
        StatusCode::CREATED,
        "a disconnected repository frees its place"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_list_filters_by_provider_name_and_failing_and_pages_by_cursor(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    insert(
        &app,
        &team,
        "provider, full_name, clone_url",
        "'git', 'acme/alpha', 'https://git.example.test/acme/alpha.git'",
    )
    .await;
    insert(
        &app,
        &team,
        "provider, full_name, clone_url, consecutive_failures, last_error, last_failed_at, retry_after",
        "'git', 'acme/beta', 'https://git.example.test/acme/beta.git', 2,
         'cannot resolve git.example.test', now(), now() + interval '2 minutes'",
    )
    .await;
    insert(
        &app,
        &team,
        "provider, full_name, clone_url, provider_repo_id",
        "'github', 'acme/gamma', 'https://github.com/acme/gamma.git', 42",
    )
    .await;
    let get = |query: &str| {
        team.call(
            &app,
            &team.viewer,
            Method::GET,
            format!("/repositories{query}"),
            None,
        )
    };

    assert_eq!(names(&get("?provider=github").await), ["acme/gamma"]);
    assert_eq!(names(&get("?q=ALP").await), ["acme/alpha"]);
    let failing = get("?failing=true").await;
    assert_eq!(names(&failing), ["acme/beta"]);
    let health = &failing.json[0]["health"];
    assert_eq!(health["state"], "failing");
    assert_eq!(health["consecutive_failures"], 2);
    assert_eq!(health["last_error"], "cannot resolve git.example.test");
    assert_eq!(
        health["next_poll_at"], health["retry_after"],
        "a failing remote is polled again when its backoff ends"
    );
    assert_eq!(
        names(&get("?failing=false").await),
        ["acme/alpha", "acme/gamma"]
    );
    let github = &get("?provider=github").await.json[0]["health"];
    assert!(github["next_poll_at"].is_null(), "GitHub pushes: {github}");

    let first = get("?limit=2").await;
    assert_eq!(names(&first), ["acme/alpha", "acme/beta"]);
    let link = first.headers[header::LINK].to_str().unwrap();
    let next = link
        .strip_prefix('<')
        .and_then(|l| l.split_once('>'))
        .unwrap()
        .0
        .to_owned();
    let second = app
        .call(Method::GET, &next, Some(&team.viewer.token), None)
        .await;
    assert_eq!(names(&second), ["acme/gamma"]);
    assert!(second.headers.get(header::LINK).is_none());

    let bad = get("?provider=svn").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{bad:?}");
    let limit = get("?limit=0").await;
    assert_eq!(limit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        limit.json["detail"]
            .as_str()
            .unwrap()
            .starts_with("limit: ")
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn sync_health_shows_the_last_scan_the_last_delivery_and_work_in_progress(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let id = insert(
        &app,
        &team,
        "provider, full_name, clone_url, poll_interval_seconds, last_polled_at, last_scanned_at,
         last_synced_commit, last_scan_duration_ms, last_delivery_at",
        &format!(
            "'git', 'acme/app', 'https://git.example.test/acme/app.git', 600,
             date_trunc('second', now()), '2026-01-01T10:00:05Z', '{commit}', 1234,
             '2026-01-01T09:00:00Z'"
        ),
    )
    .await;
    let polled: DateTime<Utc> =
        sqlx::query_scalar("select last_polled_at from app.repositories where id = $1")
            .bind(id)
            .fetch_one(&app.admin)
            .await
            .unwrap();
    let show = || {
        team.call(
            &app,
            &team.member,
            Method::GET,
            format!("/repositories/{id}"),
            None,
        )
    };

    let health = show().await.json["health"].clone();
    assert_eq!(health["state"], "healthy");
    assert_eq!(
        health["last_scan"],
        json!({ "commit": commit, "at": "2026-01-01T10:00:05Z", "duration_ms": 1234 })
    );
    let time = |value: &Value| value.as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    assert_eq!(time(&health["last_polled_at"]), polled);
    assert_eq!(health["last_delivery_at"], "2026-01-01T09:00:00Z");
    assert_eq!(
        health["backfill"],
        json!({ "complete": true, "commits": 0 })
    );
    assert_eq!(
        time(&health["next_poll_at"]),
        polled + chrono::Duration::minutes(10),
        "the last poll and its interval"
    );

    // A poll at work holds the repository's mirror lock: it shows as running.
    let mut worker = app.admin.begin().await.unwrap();
    sqlx::query("select pg_advisory_xact_lock(app.mirror_lock_key($1, $2))")
        .bind(team.tenant)
        .bind(id)
        .execute(&mut *worker)
        .await
        .unwrap();
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    jobs::enqueue(&mut tx, &PollRepository { repository: id })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let busy = show().await.json["health"].clone();
    assert_eq!(busy["state"], "syncing");
    assert_eq!(
        busy["jobs"],
        json!({ "queued": 0, "running": 1, "dead": 0 })
    );
    worker.rollback().await.unwrap();

    // A poll cut short by its commit cap: the history is still being taken.
    sqlx::query("update app.repositories set history_incomplete = true where id = $1")
        .bind(id)
        .execute(&app.admin)
        .await
        .unwrap();
    assert_eq!(
        show().await.json["health"]["backfill"],
        json!({ "complete": false, "commits": 0 })
    );

    sqlx::query(
        "insert into app.jobs (tenant_id, queue, kind, payload, status, attempts, last_error)
         values ($1, 'link', 'link_commits', jsonb_build_object('repository', $2::text), 'dead', 5,
                 'the linker failed')",
    )
    .bind(team.tenant)
    .bind(id)
    .execute(&app.admin)
    .await
    .unwrap();
    let after = show().await.json["health"].clone();
    assert_eq!(
        after["jobs"],
        json!({ "queued": 1, "running": 0, "dead": 1 })
    );
    assert_eq!(after["state"], "healthy");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn sync_now_queues_one_poll_and_brings_a_waiting_retry_forward(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let connected = connect(
        &app,
        &team,
        json!({ "url": "https://git.example.test/acme/app.git" }),
    )
    .await;
    let id = connected.json["id"].as_str().unwrap().to_owned();
    let poll: Uuid = sqlx::query_scalar("select id from app.jobs where kind = 'poll_repository'")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    // It failed once and waits for its retry.
    sqlx::query(
        "update app.jobs set run_at = now() + interval '1 hour', attempts = 1 where id = $1",
    )
    .bind(poll)
    .execute(&app.admin)
    .await
    .unwrap();

    let synced = team
        .call(
            &app,
            &team.admin,
            Method::POST,
            format!("/repositories/{id}/sync"),
            None,
        )
        .await;
    assert_eq!(synced.status, StatusCode::ACCEPTED, "{synced:?}");
    assert_eq!(
        synced.json["job_id"],
        poll.to_string(),
        "the waiting poll, not a second one"
    );
    let due: bool = sqlx::query_scalar("select run_at <= now() from app.jobs where id = $1")
        .bind(poll)
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert!(due, "brought forward");
    let count: i64 = sqlx::query_scalar("select count(*) from app.jobs")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(count, 1);

    let github = insert(
        &app,
        &team,
        "provider, full_name, clone_url, provider_repo_id",
        "'github', 'acme/gh', 'https://github.com/acme/gh.git', 7",
    )
    .await;
    let scan = team
        .call(
            &app,
            &team.admin,
            Method::POST,
            format!("/repositories/{github}/sync"),
            None,
        )
        .await;
    assert_eq!(scan.status, StatusCode::ACCEPTED);
    let kind: String = sqlx::query_scalar("select kind from app.jobs where id = $1::uuid")
        .bind(scan.json["job_id"].as_str().unwrap())
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(kind, "scan_repository", "a GitHub repository is scanned");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_poll_interval_changes_within_its_range_for_polled_remotes_only(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let git = connect(
        &app,
        &team,
        json!({ "url": "https://git.example.test/acme/app.git" }),
    )
    .await
    .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let github = insert(
        &app,
        &team,
        "provider, full_name, clone_url, provider_repo_id",
        "'github', 'acme/gh', 'https://github.com/acme/gh.git', 7",
    )
    .await;
    let patch = |id: String, body: Value| {
        team.call(
            &app,
            &team.admin,
            Method::PATCH,
            format!("/repositories/{id}"),
            Some(body),
        )
    };

    let changed = patch(git.clone(), json!({ "poll_interval": 900 })).await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert_eq!(changed.json["poll_interval_seconds"], 900);
    let cases = [
        (
            git.clone(),
            json!({ "poll_interval": 10 }),
            "poll_interval: must be between 30 and 86400 seconds, not 10",
        ),
        (
            git.clone(),
            json!({}),
            "poll_interval: required (seconds, 30 to 86400)",
        ),
        (
            github.to_string(),
            json!({ "poll_interval": 600 }),
            "poll_interval: a GitHub repository is synced by its webhook, not polled",
        ),
    ];
    for (id, body, detail) in cases {
        let reply = patch(id, body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{reply:?}");
        assert_eq!(reply.json["detail"], detail);
    }
    let missing = patch(Uuid::new_v4().to_string(), json!({ "poll_interval": 60 })).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn disconnecting_deletes_the_repository_its_rows_and_its_queued_jobs(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let id = connect(
        &app,
        &team,
        json!({ "url": "https://git.example.test/acme/app.git" }),
    )
    .await
    .json["id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    sqlx::query(
        "insert into app.projects (tenant_id, repository_id, path, type, types)
         values ($1, $2, '', 'npm', '{npm}')",
    )
    .bind(team.tenant)
    .bind(id)
    .execute(&app.admin)
    .await
    .unwrap();

    let gone = team
        .call(
            &app,
            &team.admin,
            Method::DELETE,
            format!("/repositories/{id}"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    let left: (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from app.repositories), (select count(*) from app.projects),
                (select count(*) from app.jobs)",
    )
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!(left, (0, 0, 0));
    assert_eq!(team.audit_actions(&app).await[0], "repository.disconnected");
    for (method, rest) in [
        (Method::GET, format!("/repositories/{id}")),
        (Method::DELETE, format!("/repositories/{id}")),
        (Method::POST, format!("/repositories/{id}/sync")),
    ] {
        let reply = team.call(&app, &team.admin, method, rest, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn another_organizations_repositories_are_not_found(admin: PgPool) {
    let app = TestApp::new(admin);
    let acme = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    let id = connect(
        &app,
        &acme,
        json!({ "url": "https://git.example.test/acme/app.git" }),
    )
    .await
    .json["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let listed = other
        .call(&app, &other.admin, Method::GET, "/repositories", None)
        .await;
    assert_eq!(listed.json, json!([]));
    for (method, rest, body) in [
        (Method::GET, format!("/repositories/{id}"), None),
        (
            Method::PATCH,
            format!("/repositories/{id}"),
            Some(json!({ "poll_interval": 60 })),
        ),
        (Method::POST, format!("/repositories/{id}/sync"), None),
        (Method::DELETE, format!("/repositories/{id}"), None),
    ] {
        let reply = other
            .call(&app, &other.admin, method.clone(), &rest, body)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {rest}: {reply:?}"
        );
    }
    // Acme's repository went untouched, and the same URL connects separately in each.
    let still = acme
        .call(
            &app,
            &acme.viewer,
            Method::GET,
            format!("/repositories/{id}"),
            None,
        )
        .await;
    assert_eq!(still.json["poll_interval_seconds"], 300);
    let theirs = connect(
        &app,
        &other,
        json!({ "url": "https://git.example.test/acme/app.git" }),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_ne!(theirs.json["id"], id.as_str());
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_listed_totals_follow_every_write_and_match_a_recount(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let id = insert(
        &app,
        &team,
        "provider, full_name, clone_url",
        "'git', 'acme/app', 'https://git.example.test/acme/app.git'",
    )
    .await;
    let totals = || async {
        let reply = team
            .call(
                &app,
                &team.member,
                Method::GET,
                format!("/repositories/{id}"),
                None,
            )
            .await;
        let r = &reply.json;
        [
            &r["projects"],
            &r["tasks"],
            &r["tasks_done"],
            &r["commits"],
            &r["links"],
        ]
        .map(|v| v.as_i64().unwrap_or_else(|| panic!("{reply:?}")))
    };
    let recount = || async {
        let row: (i64, i64, i64, i64, i64) = sqlx::query_as(
            "select (select count(*) from app.projects where repository_id = $1 and removed_at is null),
                    (select count(*) from app.tasks where repository_id = $1 and removed_at is null),
                    (select count(*) from app.tasks
                     where repository_id = $1 and removed_at is null and status = 'done'),
                    (select count(*) from app.commits where repository_id = $1),
                    (select count(*) from app.commit_task_links l join app.commits c on c.id = l.commit_id
                     where c.repository_id = $1 and l.state = 'active')",
        )
        .bind(id)
        .fetch_one(&app.admin)
        .await
        .unwrap();
        [row.0, row.1, row.2, row.3, row.4]
    };
    // Each step as the runtime role writes it (the scanner, the linker, a person), in one statement
    // or several rows at once.
    let steps = [
        "insert into projects (repository_id, path, type, types)
         values ($1, '', 'npm', '{npm}'), ($1, 'web', 'npm', '{npm}')",
        "insert into tasks (repository_id, source, external_key, title, status)
         values ($1, 'tasklist', 'T-1', 'One', 'open'), ($1, 'tasklist', 'T-2', 'Two', 'done'),
                ($1, 'tasklist', 'T-3', 'Three', 'done')",
        "insert into commits (repository_id, sha, message)
         values ($1, repeat('a', 40), 'a'), ($1, repeat('b', 40), 'b'), ($1, repeat('c', 40), 'c')",
        "insert into commit_task_links (commit_id, task_id, method, confidence, state)
         select c.id, t.id, 'explicit', 1, case when c.sha = repeat('c', 40) then 'suggested' else 'active' end
         from commits c, tasks t where c.repository_id = $1 and t.external_key in ('T-1', 'T-2')",
        "update commit_task_links set state = 'active' where state = 'suggested'",
        "update commit_task_links set state = 'rejected'
         where commit_id = (select id from commits where sha = repeat('a', 40))",
        "update tasks set status = 'open' where external_key = 'T-2' and $1::uuid is not null",
        "update tasks set removed_at = now() where external_key = 'T-3' and $1::uuid is not null",
        "update projects set removed_at = now() where path = 'web' and $1::uuid is not null",
        "delete from commit_task_links where commit_id = (select id from commits where sha = repeat('b', 40))",
        "delete from tasks where external_key = 'T-1' and $1::uuid is not null",
        "delete from projects where path = '' and $1::uuid is not null",
    ];
    assert_eq!(totals().await, [0; 5]);
    for step in steps {
        let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
        sqlx::query(step).bind(id).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(totals().await, recount().await, "after {step}");
    }
    assert_eq!(totals().await, [0, 1, 0, 3, 1], "the end state");
}
