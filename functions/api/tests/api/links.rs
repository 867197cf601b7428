//! Links through the API: linking by hand confirms a suggestion, a removed link stays removed after
//! the relink job the API enqueued has run (the linker's own worker drains the queue), the job is
//! polled to done, bad input is a 422 naming the field, and another organization's commits, tasks,
//! links and jobs are not found.

use dashboard_linker::LinkerContext;
use dashboard_shared::jobs::{self, Transport, kinds::RelinkOrganization};
use http::{Method, StatusCode, header::LOCATION};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    support::{Reply, TestApp},
    team::Team,
};

/// The SHA of test commit `n`.
pub fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(20)
}

/// Rows of one repository of `team`: its id, its commits' ids and its tasks' ids, in the order
/// given. Commits are `(n, message, days ago)`; tasks `(source, key, title)`.
pub struct Seeded {
    pub repository: Uuid,
    pub commits: Vec<Uuid>,
    pub tasks: Vec<Uuid>,
}

/// Inserts repository `name` of `team` with `commits` and `tasks`, as ingestion and scans leave
/// them.
pub async fn seed(
    app: &TestApp,
    team: &Team,
    name: &str,
    commits: &[(u8, &str, i32)],
    tasks: &[(&str, &str, &str)],
) -> Seeded {
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let repository: Uuid = sqlx::query_scalar(
        "insert into repositories (provider, full_name, clone_url, default_branch)
         values ('git', $1, $2, 'main') returning id",
    )
    .bind(name)
    .bind(format!("https://git.example.test/{name}.git"))
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let mut commit_ids = Vec::new();
    for (n, message, days_ago) in commits {
        let id: Uuid = sqlx::query_scalar(
            "insert into commits (repository_id, sha, message, author_name, committed_at, on_default_branch)
             values ($1, $2, $3, 'Ada', now() - make_interval(days => $4), true) returning id",
        )
        .bind(repository)
        .bind(sha(*n))
        .bind(message)
        .bind(days_ago)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        commit_ids.push(id);
    }
    let mut task_ids = Vec::new();
    for (source, key, title) in tasks {
        let id: Uuid = sqlx::query_scalar(
            "insert into tasks (repository_id, source, external_key, title, created_at)
             values ($1, $2, $3, $4, now() - interval '30 days') returning id",
        )
        .bind(repository)
        .bind(source)
        .bind(key)
        .bind(title)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        task_ids.push(id);
    }
    tx.commit().await.unwrap();
    Seeded {
        repository,
        commits: commit_ids,
        tasks: task_ids,
    }
}

/// Runs the link queue here until it is empty, with the linker's own worker: how many jobs ran.
pub async fn drain(app: &TestApp) -> usize {
    let worker = dashboard_linker::worker(LinkerContext {
        db: app.state.db.clone(),
        transport: Transport::Postgres(app.state.db.clone()),
        github: None,
        semantic: None,
    });
    worker.drain().await.unwrap()
}

/// The link of commit to task: (method, state), if any.
async fn link_of(app: &TestApp, commit: Uuid, task: Uuid) -> Option<(String, String)> {
    sqlx::query_as(
        "select method, state from app.commit_task_links where commit_id = $1 and task_id = $2",
    )
    .bind(commit)
    .bind(task)
    .fetch_optional(&app.admin)
    .await
    .unwrap()
}

fn pair(method: &str, state: &str) -> Option<(String, String)> {
    Some((method.to_owned(), state.to_owned()))
}

/// Polls the job at the relink answer's `Location` as `team`'s viewer.
async fn poll(app: &TestApp, team: &Team, relinked: &Reply) -> Value {
    let location = relinked.headers[LOCATION].to_str().unwrap();
    let reply = app
        .call(Method::GET, location, Some(&team.viewer.token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn linking_by_hand_confirms_a_suggestion_and_relinking_keeps_it(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let rows = seed(
        &app,
        &team,
        "acme/web",
        &[(1, "Tidy the avatar upload form", 3)],
        &[("tasklist", "TASK-WEB-1", "Avatar uploads")],
    )
    .await;
    let (commit, task) = (rows.commits[0], rows.tasks[0]);
    // What the linker leaves for a person to confirm.
    sqlx::query(
        "insert into app.commit_task_links (tenant_id, commit_id, task_id, method, confidence, state, evidence)
         values ($1, $2, $3, 'similarity', 0.2, 'suggested', '{\"terms\": [\"avatar\"]}')",
    )
    .bind(team.tenant)
    .bind(commit)
    .bind(task)
    .execute(&app.admin)
    .await
    .unwrap();

    let confirmed = team
        .call(
            &app,
            &team.member,
            Method::POST,
            "/links",
            Some(json!({ "commit": &sha(1)[..10], "task": "TASK-WEB-1" })),
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{confirmed:?}");
    assert_eq!(confirmed.json["commit_id"], commit.to_string());
    assert_eq!(confirmed.json["task_key"], "TASK-WEB-1");
    assert_eq!(confirmed.json["method"], "manual");
    assert_eq!(confirmed.json["state"], "active");
    assert_eq!(confirmed.json["confidence"], 1.0);
    assert_eq!(confirmed.json["created_by"], team.member.id.to_string());
    assert_eq!(
        confirmed.json["previous"],
        json!({ "method": "similarity", "state": "suggested" })
    );
    assert_eq!(team.audit_actions(&app).await[0], "link.added");

    // The linker would withdraw a suggestion it no longer finds; a confirmed link stays.
    let relinked = team
        .call(&app, &team.member, Method::POST, "/link-commit-tasks", None)
        .await;
    assert_eq!(relinked.status, StatusCode::ACCEPTED, "{relinked:?}");
    assert!(drain(&app).await >= 1);
    assert_eq!(poll(&app, &team, &relinked).await["status"], "done");
    assert_eq!(link_of(&app, commit, task).await, pair("manual", "active"));

    // A new pair by ids: 201, nothing before.
    let second = seed(
        &app,
        &team,
        "acme/api",
        &[(2, "Start", 1)],
        &[("github_issue", "7", "Crash on start")],
    )
    .await;
    let created = team
        .call(
            &app,
            &team.member,
            Method::POST,
            "/links",
            Some(json!({ "commit": second.commits[0], "task": "#7" })),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.json["previous"], Value::Null);
    assert_eq!(created.json["task_source"], "github_issue");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_removed_link_stays_removed_after_the_relink_job_runs(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let rows = seed(
        &app,
        &team,
        "acme/web",
        &[(1, "Send the reset email; fixes TASK-WEB-2", 2)],
        &[
            ("tasklist", "TASK-WEB-1", "Sign in with Google"),
            ("tasklist", "TASK-WEB-2", "Password reset emails"),
        ],
    )
    .await;
    let (commit, task) = (rows.commits[0], rows.tasks[1]);

    // The relink job links the explicit reference; polled from queued to done.
    let relinked = team
        .call(
            &app,
            &team.member,
            Method::POST,
            "/link-commit-tasks",
            Some(json!({ "repository": rows.repository })),
        )
        .await;
    assert_eq!(relinked.status, StatusCode::ACCEPTED, "{relinked:?}");
    let id = relinked.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        relinked.headers[LOCATION],
        format!("/api/v2/orgs/acme/jobs/{id}")
    );
    assert_eq!(relinked.json["kind"], "relink_repository");
    assert_eq!(relinked.json["status"], "queued");
    assert_eq!(poll(&app, &team, &relinked).await["status"], "queued");
    // Asked again while it waits: the same job.
    let again = team
        .call(
            &app,
            &team.admin,
            Method::POST,
            "/link-commit-tasks",
            Some(json!({ "repository": rows.repository })),
        )
        .await;
    assert_eq!(again.json["id"], id.as_str());
    assert_eq!(drain(&app).await, 1);
    let done = poll(&app, &team, &relinked).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["attempts"], 0);
    assert_eq!(done["last_error"], Value::Null);
    assert_eq!(done["next_run_at"], Value::Null);
    assert_eq!(
        link_of(&app, commit, task).await,
        pair("explicit", "active")
    );

    let path = format!("/links/{commit}/{task}");
    let removed = team
        .call(&app, &team.member, Method::DELETE, &path, None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{removed:?}");
    assert_eq!(team.audit_actions(&app).await[0], "link.removed");
    let details: Value = sqlx::query_scalar(
        "select details from app.audit_log where tenant_id = $1 and action = 'link.removed'",
    )
    .bind(team.tenant)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!(
        details,
        json!({ "commit": sha(1), "task": "TASK-WEB-2",
                "previous": { "method": "explicit", "state": "active" } })
    );
    let twice = team
        .call(&app, &team.member, Method::DELETE, &path, None)
        .await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND, "removed already");

    // Every repository relinked: the reference is still in the message, the link stays removed.
    let relinked = team
        .call(&app, &team.owner, Method::POST, "/link-commit-tasks", None)
        .await;
    assert_eq!(relinked.status, StatusCode::ACCEPTED, "{relinked:?}");
    assert_eq!(relinked.json["kind"], "relink_organization");
    assert_eq!(drain(&app).await, 1);
    assert_eq!(poll(&app, &team, &relinked).await["status"], "done");
    assert_eq!(
        link_of(&app, commit, task).await,
        pair("explicit", "rejected")
    );

    // Only a person brings it back.
    let restored = team
        .call(
            &app,
            &team.member,
            Method::POST,
            "/links",
            Some(json!({ "commit": commit, "task": task })),
        )
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{restored:?}");
    assert_eq!(
        restored.json["previous"],
        json!({ "method": "explicit", "state": "rejected" })
    );
    assert_eq!(link_of(&app, commit, task).await, pair("manual", "active"));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_job_that_failed_says_why_in_words(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    // As the queue leaves a job out of attempts (queue.finish).
    let id: Uuid = sqlx::query_scalar(
        "insert into app.jobs (tenant_id, queue, kind, status, attempts, last_error)
         values ($1, 'link', 'relink_organization', 'dead', 5, 'the job panicked: out of memory')
         returning id",
    )
    .bind(team.tenant)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    let reply = team
        .call(&app, &team.viewer, Method::GET, format!("/jobs/{id}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["status"], "dead");
    assert_eq!(reply.json["attempts"], 5);
    assert_eq!(reply.json["max_attempts"], 5);
    assert_eq!(reply.json["last_error"], "the job panicked: out of memory");
}

/// The problem's detail, checked to be a 422.
fn unprocessable(reply: &Reply) -> &str {
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{reply:?}");
    reply.json["detail"].as_str().unwrap()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn bad_links_and_relinks_are_refused_naming_the_field(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    seed(
        &app,
        &team,
        "acme/web",
        // Two SHAs sharing their first 7 digits: `1212121` names both.
        &[(0x12, "One", 1), (0x13, "Two", 1)],
        &[("tasklist", "TASK-WEB-1", "Sign in")],
    )
    .await;
    sqlx::query("update app.commits set sha = '1212121' || repeat('f', 33) where sha = $1")
        .bind(sha(0x13))
        .execute(&app.admin)
        .await
        .unwrap();
    let post = |body: Value| team.call(&app, &team.member, Method::POST, "/links", Some(body));
    let cases = [
        (
            json!({ "commit": "zz", "task": "TASK-WEB-1" }),
            "commit: give a commit's id or its SHA",
        ),
        (
            json!({ "commit": "1212121", "task": "TASK-WEB-1" }),
            "commit: 1212121 names several commits",
        ),
        (
            json!({ "commit": "abcdef0", "task": "TASK-WEB-1" }),
            "commit: no commit abcdef0",
        ),
        (
            json!({ "commit": Uuid::new_v4(), "task": "TASK-WEB-1" }),
            "commit: no commit",
        ),
        (
            json!({ "commit": sha(0x12), "task": "TASK-NOPE-1" }),
            "task: no task TASK-NOPE-1",
        ),
        (
            json!({ "commit": sha(0x12), "task": "" }),
            "task: give a task's id",
        ),
        (
            json!({ "commit": sha(0x12), "task": "x".repeat(201) }),
            "task: give a task's id",
        ),
        (
            json!({ "commit": sha(0x12), "task": Uuid::new_v4() }),
            "task: no task",
        ),
    ];
    for (body, expected) in cases {
        let reply = post(body.clone()).await;
        let detail = unprocessable(&reply);
        assert!(detail.starts_with(expected), "{body}: {detail}");
    }
    let missing = post(json!({ "commit": sha(0x12) })).await;
    assert!(unprocessable(&missing).contains("task"), "{missing:?}");
    let unknown = post(json!({ "commit": sha(0x12), "task": "TASK-WEB-1", "why": "x" })).await;
    assert!(unprocessable(&unknown).contains("why"), "{unknown:?}");

    let relink = team
        .call(
            &app,
            &team.member,
            Method::POST,
            "/link-commit-tasks",
            Some(json!({ "repository": Uuid::new_v4() })),
        )
        .await;
    assert!(unprocessable(&relink).starts_with("repository: no repository"));
    let not_an_id = team
        .call(&app, &team.member, Method::GET, "/jobs/not-an-id", None)
        .await;
    assert_eq!(not_an_id.status, StatusCode::BAD_REQUEST, "{not_an_id:?}");
    let nothing = sqlx::query_scalar::<_, i64>("select count(*) from app.commit_task_links")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(nothing, 0);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn another_organizations_commits_tasks_links_and_jobs_are_not_found(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    seed(&app, &team, "acme/web", &[(1, "Ours", 1)], &[]).await;
    let theirs = seed(
        &app,
        &other,
        "other/web",
        &[(2, "Theirs", 1)],
        &[("tasklist", "TASK-OTH-1", "Their task")],
    )
    .await;
    let (commit, task) = (theirs.commits[0], theirs.tasks[0]);
    let linked = other
        .call(
            &app,
            &other.member,
            Method::POST,
            "/links",
            Some(json!({ "commit": commit, "task": task })),
        )
        .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{linked:?}");
    let mut tx = app.state.db.tenant(other.tenant).await.unwrap();
    let job = jobs::enqueue(&mut tx, &RelinkOrganization {})
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();

    for body in [
        json!({ "commit": commit, "task": "TASK-OTH-1" }),
        json!({ "commit": sha(2), "task": "TASK-OTH-1" }),
        json!({ "commit": sha(1), "task": task }),
        json!({ "commit": sha(1), "task": "TASK-OTH-1" }),
    ] {
        let reply = team
            .call(
                &app,
                &team.member,
                Method::POST,
                "/links",
                Some(body.clone()),
            )
            .await;
        let detail = unprocessable(&reply);
        assert!(detail.contains(": no "), "{body}: {detail}");
    }
    let removed = team
        .call(
            &app,
            &team.member,
            Method::DELETE,
            format!("/links/{commit}/{task}"),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NOT_FOUND);
    let polled = team
        .call(
            &app,
            &team.viewer,
            Method::GET,
            format!("/jobs/{job}"),
            None,
        )
        .await;
    assert_eq!(polled.status, StatusCode::NOT_FOUND);
    let relink = team
        .call(
            &app,
            &team.member,
            Method::POST,
            "/link-commit-tasks",
            Some(json!({ "repository": theirs.repository })),
        )
        .await;
    assert!(unprocessable(&relink).starts_with("repository: no repository"));
    assert_eq!(
        link_of(&app, commit, task).await,
        pair("manual", "active"),
        "theirs untouched"
    );
}
