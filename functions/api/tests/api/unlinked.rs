//! Unlinked work through the API, over links the linker itself made: commits with no task, tasks
//! with no commit, pull requests that reach no task, in cursor pages; the linking rate per
//! repository and ISO week; bad parameters answered 422 naming them; nothing of another
//! organization.

use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::{
    links::{drain, seed, sha},
    support::{Reply, TestApp},
    team::Team,
};

/// Every row of a list, following `Link: rel="next"` from `first`; the number of pages.
async fn all_pages(app: &TestApp, team: &Team, first: &str) -> (Vec<Value>, usize) {
    let mut rows = Vec::new();
    let mut pages = 0;
    let mut next = Some(team.path(first));
    while let Some(path) = next {
        let reply = app
            .call(Method::GET, &path, Some(&team.viewer.token), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {reply:?}");
        rows.extend(reply.json.as_array().unwrap().iter().cloned());
        next = reply.headers.get(header::LINK).map(|link| {
            let link = link.to_str().unwrap();
            link[1..link.find('>').unwrap()].to_owned()
        });
        pages += 1;
    }
    (rows, pages)
}

fn field(rows: &[Value], name: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r[name].as_str().unwrap().to_owned())
        .collect()
}

/// An organization whose relinked commits leave some work unlinked:
/// - commit 1 (today) fixes TASK-WEB-1; commit 2 (8 days ago) says nothing; commit 3 (9 days ago)
///   is the merge commit of pull request #5, which also closes issue #7; commit 4 (10 days ago) is
///   the merge commit of pull request #6, which names nothing.
/// - TASK-WEB-2 and issue #8 have no commit.
async fn arrange(app: &TestApp, team: &Team) -> crate::links::Seeded {
    let rows = seed(
        app,
        team,
        "acme/web",
        &[
            (1, "Fix the sign-in button; fixes TASK-WEB-1", 0),
            (2, "Bump the version", 8),
            (3, "Merge pull request #5 from acme/crash", 9),
            (4, "Merge pull request #6 from acme/zz", 10),
        ],
        &[
            ("tasklist", "TASK-WEB-1", "Sign-in button"),
            ("tasklist", "TASK-WEB-2", "Quarterly report export"),
            ("github_issue", "7", "Crash on start"),
            ("github_issue", "8", "Translations"),
            ("github_pr", "5", "Stop the crash (fixes #7)"),
            ("github_pr", "6", "Refresh the lock file"),
        ],
    )
    .await;
    for (number, commit) in [("5", 3), ("6", 4)] {
        sqlx::query(
            "update app.tasks set merge_commit_sha = $1, base_branch = 'main', status = 'done'
             where external_key = $2 and source = 'github_pr'",
        )
        .bind(sha(commit))
        .bind(number)
        .execute(&app.admin)
        .await
        .unwrap();
    }
    let relinked = team
        .call(app, &team.member, Method::POST, "/link-commit-tasks", None)
        .await;
    assert_eq!(relinked.status, StatusCode::ACCEPTED, "{relinked:?}");
    assert_eq!(drain(app).await, 1);
    rows
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn unlinked_commits_tasks_and_pull_requests_are_listed_in_pages(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    let rows = arrange(&app, &team).await;
    seed(
        &app,
        &other,
        "other/web",
        &[(9, "Theirs", 1)],
        &[("tasklist", "TASK-OTH-1", "Theirs")],
    )
    .await;

    let (commits, pages) = all_pages(&app, &team, "/unlinked/commits?limit=1").await;
    assert_eq!(field(&commits, "title"), ["Bump the version"]);
    assert_eq!(pages, 1);
    assert_eq!(commits[0]["sha"], sha(2));
    assert_eq!(commits[0]["repository"], "acme/web");

    let (tasks, pages) = all_pages(&app, &team, "/unlinked/tasks?limit=1").await;
    assert_eq!(pages, 2);
    let mut keys = field(&tasks, "key");
    keys.sort();
    assert_eq!(keys, ["8", "TASK-WEB-2"]);
    let (issues, _) = all_pages(&app, &team, "/unlinked/tasks?source=github_issue").await;
    assert_eq!(field(&issues, "key"), ["8"]);
    assert_eq!(issues[0]["status"], "open");

    let (pull_requests, _) = all_pages(&app, &team, "/unlinked/pull-requests").await;
    assert_eq!(
        field(&pull_requests, "number"),
        ["6"],
        "#5 reaches issue #7"
    );
    assert_eq!(pull_requests[0]["commits"], 1, "its merge commit");

    // A time window: the bumped version is 8 days old.
    let yesterday = urlencode(&(chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339());
    let (recent, _) = all_pages(&app, &team, &format!("/unlinked/commits?since={yesterday}")).await;
    assert!(recent.is_empty(), "{recent:?}");
    let (older, _) = all_pages(&app, &team, &format!("/unlinked/commits?until={yesterday}")).await;
    assert_eq!(field(&older, "sha"), [sha(2)]);

    // Linking the bumped version by hand takes it off the list; a suggestion would not.
    let linked = team
        .call(
            &app,
            &team.member,
            Method::POST,
            "/links",
            Some(json!({ "commit": sha(2), "task": "TASK-WEB-2" })),
        )
        .await;
    assert_eq!(linked.status, StatusCode::CREATED, "{linked:?}");
    let (commits, _) = all_pages(&app, &team, "/unlinked/commits").await;
    assert!(commits.is_empty(), "{commits:?}");
    let (tasks, _) = all_pages(&app, &team, "/unlinked/tasks?source=tasklist").await;
    assert!(tasks.is_empty(), "{tasks:?}");
    sqlx::query(
        "insert into app.commit_task_links (tenant_id, commit_id, task_id, method, confidence, state)
         values ($1, $2, $3, 'similarity', 0.2, 'suggested')",
    )
    .bind(team.tenant)
    .bind(rows.commits[2])
    .bind(rows.tasks[3])
    .execute(&app.admin)
    .await
    .unwrap();
    let (issues, _) = all_pages(&app, &team, "/unlinked/tasks?source=github_issue").await;
    assert_eq!(issues[0]["suggestions"], 1);

    // Filters: a repository.
    let (none, _) = all_pages(
        &app,
        &team,
        &format!(
            "/unlinked/pull-requests?repository={}",
            uuid::Uuid::new_v4()
        ),
    )
    .await;
    assert!(none.is_empty());
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)]).unwrap()[1..].to_owned()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_linking_rate_is_given_per_repository_and_iso_week(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let rows = arrange(&app, &team).await;
    seed(&app, &team, "acme/empty", &[], &[]).await;

    let reply = team
        .call(
            &app,
            &team.viewer,
            Method::GET,
            "/linking-rate?weeks=3",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let weeks = reply.json["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 3);
    let today = chrono::Utc::now().date_naive();
    let iso = chrono::Datelike::iso_week(&today);
    assert_eq!(
        weeks[2]["week"],
        format!("{}-W{:02}", iso.year(), iso.week())
    );
    assert_eq!(reply.json["since"], weeks[0]["starts_on"]);
    // Four commits in the last three weeks (0, 8, 9 and 10 days ago), three of them linked.
    let sum = |key: &str| weeks.iter().map(|w| w[key].as_i64().unwrap()).sum::<i64>();
    assert_eq!((sum("commits"), sum("linked")), (4, 3));
    let repositories = reply.json["repositories"].as_array().unwrap();
    assert_eq!(repositories.len(), 1, "acme/empty has no commits");
    assert_eq!(repositories[0]["id"], rows.repository.to_string());
    assert_eq!(repositories[0]["commits"], 4);
    assert_eq!(repositories[0]["rate"], 0.75);
    let this_week = &repositories[0]["weeks"][2];
    assert_eq!(this_week["rate"], 1.0, "{this_week}");

    let one = team
        .call(
            &app,
            &team.viewer,
            Method::GET,
            "/linking-rate?weeks=1",
            None,
        )
        .await;
    assert_eq!(one.json["weeks"].as_array().unwrap().len(), 1);
    assert_eq!(one.json["weeks"][0]["commits"], 1);
}

fn unprocessable(reply: &Reply) -> &str {
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{reply:?}");
    reply.json["detail"].as_str().unwrap()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn bad_parameters_are_refused_naming_them(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    for (path, field) in [
        ("/linking-rate?weeks=0", "weeks:"),
        ("/linking-rate?weeks=105", "weeks:"),
        ("/unlinked/tasks?source=github_pr", "source:"),
        (
            "/unlinked/commits?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            "since:",
        ),
        ("/unlinked/commits?limit=0", "limit:"),
        ("/unlinked/pull-requests?limit=201", "limit:"),
    ] {
        let reply = team.call(&app, &team.viewer, Method::GET, path, None).await;
        assert!(
            unprocessable(&reply).starts_with(field),
            "{path}: {reply:?}"
        );
    }
    for path in [
        "/unlinked/tasks?status=finished",
        "/unlinked/commits?cursor=nonsense",
        "/linking-rate?repository=42",
    ] {
        let reply = team.call(&app, &team.viewer, Method::GET, path, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {reply:?}");
    }
}
