//! Tasks through the API: filters, full-text search over titles and bodies (best match first, paged
//! like any list), one task with its commits and suggestions and why, bad input named, and another
//! organization's tasks answered 404.

use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    commits::{Link, all_pages, explicit, insert_commit, insert_link, insert_task, similar},
    projects::seed,
    support::TestApp,
    team::Team,
};

/// The ids of the tasks arranged by [`arrange`].
struct Tasks {
    web: Uuid,
    cli: Uuid,
    ui: Uuid,
    login: Uuid,
}

/// acme/web (a root project and `packages/ui`) and acme/cli, with tasks from task lists and GitHub;
/// TASK-1 has a closing commit and a suggestion.
async fn arrange(app: &TestApp, team: &Team) -> Tasks {
    let (web, projects) = seed(
        app,
        team,
        "acme/web",
        &[("", &["npm"]), ("packages/ui", &["npm"])],
    )
    .await;
    let (cli, _) = seed(app, team, "acme/cli", &[("", &["cargo"])]).await;
    let ui = projects[1];
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let login = insert_task(
        &mut tx,
        web,
        Some(ui),
        ("tasklist", "TASK-1"),
        ("Login form", "Ask for the email and a password."),
        "done",
    )
    .await;
    for (project, key, title, body, status) in [
        (
            Some(ui),
            "TASK-2",
            "Dark mode",
            "Themes for the night.",
            "open",
        ),
        (
            Some(ui),
            "TASK-3",
            "Invoice export",
            "Exports invoices as CSV for the accountants.",
            "in_progress",
        ),
        (
            Some(projects[0]),
            "TASK-4",
            "Billing page",
            "Charge cards through Stripe.",
            "open",
        ),
    ] {
        insert_task(
            &mut tx,
            web,
            project,
            ("tasklist", key),
            (title, body),
            status,
        )
        .await;
    }
    insert_task(
        &mut tx,
        web,
        None,
        ("github_issue", "12"),
        (
            "Crash on export",
            "The CSV export crashes with many invoices",
        ),
        "open",
    )
    .await;
    insert_task(
        &mut tx,
        cli,
        None,
        ("github_pr", "3"),
        ("Add a --json flag", "Print JSON for scripts."),
        "cancelled",
    )
    .await;
    let at = "2026-01-02T10:00:00Z";
    let fix = insert_commit(
        &mut tx,
        web,
        &"a".repeat(40),
        "Login form, fixes TASK-1",
        ("Ada", "ada@acme.test"),
        at,
    )
    .await;
    let maybe = insert_commit(
        &mut tx,
        web,
        &"b".repeat(40),
        "Email field",
        ("Ada", "ada@acme.test"),
        "2026-01-03T10:00:00Z",
    )
    .await;
    let by_hand = insert_commit(
        &mut tx,
        web,
        &"c".repeat(40),
        "Password rules",
        ("Bob", "bob@acme.test"),
        "2026-01-04T10:00:00Z",
    )
    .await;
    let gone = insert_commit(
        &mut tx,
        web,
        &"d".repeat(40),
        "Unrelated",
        ("Bob", "bob@acme.test"),
        "2026-01-05T10:00:00Z",
    )
    .await;
    insert_link(&mut tx, fix, login, explicit("TASK-1", "closes")).await;
    insert_link(
        &mut tx,
        maybe,
        login,
        similar(0.37, &["email", "form"], "suggested"),
    )
    .await;
    let manual = Link {
        method: "manual",
        relation: "references",
        confidence: 1.0,
        state: "active",
        evidence: json!({}),
        by: Some(team.member.id),
    };
    insert_link(&mut tx, by_hand, login, manual).await;
    let rejected = Link {
        state: "rejected",
        ..similar(0.5, &["unrelated"], "active")
    };
    insert_link(&mut tx, gone, login, rejected).await;
    tx.commit().await.unwrap();
    Tasks {
        web,
        cli,
        ui,
        login,
    }
}

fn keys(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|t| t["key"].as_str().unwrap()).collect()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn tasks_are_listed_in_pages_and_filtered(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let ids = arrange(&app, &team).await;
    let viewer = team.viewer.token.as_str();
    let list = |query: String| {
        let app = &app;
        async move {
            let (rows, _) =
                all_pages(app, viewer, &format!("/api/v2/orgs/acme/tasks?{query}")).await;
            rows
        }
    };

    let (all, pages) = all_pages(&app, viewer, "/api/v2/orgs/acme/tasks?limit=2").await;
    assert_eq!(pages, 3);
    let (web_first, cli_first) = (ids.web < ids.cli, ids.cli < ids.web);
    let web_keys = ["12", "TASK-1", "TASK-2", "TASK-3", "TASK-4"];
    let mut expected: Vec<&str> = Vec::new();
    if cli_first {
        expected.push("3");
    }
    expected.extend(web_keys);
    if web_first {
        expected.push("3");
    }
    assert_eq!(keys(&all), expected, "by repository, source, key");
    let login = all.iter().find(|t| t["key"] == "TASK-1").unwrap();
    assert_eq!(login["title"], "Login form");
    assert_eq!(login["status"], "done");
    assert_eq!(login["source"], "tasklist");
    assert_eq!(login["repository"], "acme/web");
    assert_eq!(login["project_path"], "packages/ui");
    assert_eq!(
        login["linked_commits"], 2,
        "the explicit and the manual link"
    );
    assert_eq!(login["rank"], Value::Null);

    assert_eq!(
        keys(&list(format!("project={}", ids.ui)).await),
        ["TASK-1", "TASK-2", "TASK-3"]
    );
    assert_eq!(keys(&list(format!("repository={}", ids.cli)).await), ["3"]);
    assert_eq!(
        keys(&list("status=open".into()).await),
        ["12", "TASK-2", "TASK-4"]
    );
    assert_eq!(keys(&list("source=github_issue".into()).await), ["12"]);
    assert_eq!(keys(&list("linked=true".into()).await), ["TASK-1"]);
    assert_eq!(
        list("linked=false".into()).await.len(),
        5,
        "a suggestion is not a link"
    );
    assert_eq!(
        keys(&list(format!("project={}&status=in_progress", ids.ui)).await),
        ["TASK-3"]
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_search_finds_tasks_by_the_words_of_their_body_best_match_first(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let ids = arrange(&app, &team).await;
    let viewer = team.viewer.token.as_str();
    let search = |query: &str| {
        let path = format!("/api/v2/orgs/acme/tasks?{query}");
        let app = &app;
        async move { all_pages(app, viewer, &path).await.0 }
    };

    let stripe = search("q=stripe").await;
    assert_eq!(keys(&stripe), ["TASK-4"], "a word found only in the body");
    assert!(stripe[0]["rank"].as_f64().unwrap() > 0.0);
    let accountant = search("q=Accountant").await;
    assert_eq!(
        keys(&accountant),
        ["TASK-3"],
        "another form of a word, any case"
    );

    // `invoice` is in TASK-3's title and body and in issue 12's body only: the title weighs more.
    // Pages of one follow the rank, each task once.
    let (invoice, pages) =
        all_pages(&app, viewer, "/api/v2/orgs/acme/tasks?q=invoice&limit=1").await;
    assert_eq!(pages, 2);
    assert_eq!(keys(&invoice), ["TASK-3", "12"]);
    let ranks: Vec<f64> = invoice
        .iter()
        .map(|t| t["rank"].as_f64().unwrap())
        .collect();
    assert!(ranks[0] > ranks[1], "{ranks:?}");
    let (export, pages) = all_pages(&app, viewer, "/api/v2/orgs/acme/tasks?q=export&limit=1").await;
    assert_eq!(pages, 2);
    let mut found = keys(&export);
    found.sort_unstable();
    assert_eq!(found, ["12", "TASK-3"]);

    assert_eq!(
        keys(&search("q=%22csv%20export%22").await),
        ["12"],
        "a phrase"
    );
    assert_eq!(
        keys(&search("q=export%20-crash").await),
        ["TASK-3"],
        "a word left out"
    );
    let mut either = search("q=export%20or%20stripe&status=open").await;
    either.sort_by_key(|t| t["key"].as_str().unwrap().to_owned());
    assert_eq!(
        keys(&either),
        ["12", "TASK-4"],
        "either word, with a filter"
    );
    assert_eq!(
        search("q=the").await,
        Vec::<Value>::new(),
        "only a stop word"
    );
    assert_eq!(
        keys(&search(&format!("q=password&project={}", ids.ui)).await),
        ["TASK-1"]
    );
    assert_eq!(
        search("q=%20%20").await.len(),
        6,
        "a blank search is no search"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_task_shows_its_commits_and_suggestions_with_why(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let ids = arrange(&app, &team).await;
    let reply = app
        .call(
            Method::GET,
            &format!("/api/v2/orgs/acme/tasks/{}", ids.login),
            Some(&team.viewer.token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let task = &reply.json;
    assert_eq!(task["key"], "TASK-1");
    assert_eq!(task["body"], "Ask for the email and a password.");
    let commits = task["commits"].as_array().unwrap();
    let shas: Vec<&str> = commits
        .iter()
        .map(|l| &l["commit"]["sha"].as_str().unwrap()[..1])
        .collect();
    assert_eq!(
        shas,
        ["c", "a"],
        "strongest, then newest; the removed one left out"
    );
    let manual = &commits[0];
    assert_eq!(manual["method"], "manual");
    assert_eq!(manual["why"]["linked_by"], team.member.id.to_string());
    assert_eq!(manual["why"]["reference"], Value::Null);
    assert_eq!(manual["commit"]["title"], "Password rules");
    let explicit = &commits[1];
    assert_eq!(explicit["method"], "explicit");
    assert_eq!(explicit["relation"], "closes");
    assert_eq!(explicit["state"], "active");
    assert_eq!(explicit["why"]["reference"], "TASK-1");
    assert_eq!(explicit["commit"]["repository"], "acme/web");
    let suggestions = task["suggestions"].as_array().unwrap();
    assert_eq!(suggestions.len(), 1);
    assert_eq!(suggestions[0]["commit"]["sha"], "b".repeat(40));
    assert_eq!(suggestions[0]["state"], "suggested");
    assert_eq!(suggestions[0]["why"]["terms"], json!(["email", "form"]));
    assert_eq!(suggestions[0]["why"]["score"], 0.37);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn bad_task_filters_are_problems_naming_the_field(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let token = Some(team.viewer.token.as_str());
    let long = "word ".repeat(101);
    for (query, status, field) in [
        ("status=finished", StatusCode::BAD_REQUEST, "status"),
        ("source=jira", StatusCode::BAD_REQUEST, "source"),
        ("project=1", StatusCode::BAD_REQUEST, "project"),
        ("linked=yes", StatusCode::BAD_REQUEST, "linked"),
        (&format!("q={long}"), StatusCode::UNPROCESSABLE_ENTITY, "q"),
        ("q=a%00b", StatusCode::UNPROCESSABLE_ENTITY, "q"),
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY, "limit"),
        ("q=x&cursor=WzEsMl0", StatusCode::BAD_REQUEST, "cursor"),
    ] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/v2/orgs/acme/tasks?{}", query.replace(' ', "%20")),
                token,
                None,
            )
            .await;
        assert_eq!(reply.status, status, "{query}: {reply:?}");
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let detail = reply.json["detail"].as_str().unwrap();
        assert!(detail.contains(field), "{query}: {detail}");
    }
    let not_an_id = app
        .call(Method::GET, "/api/v2/orgs/acme/tasks/TASK-1", token, None)
        .await;
    assert_eq!(not_an_id.status, StatusCode::BAD_REQUEST, "{not_an_id:?}");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn another_organizations_tasks_are_404_and_never_found(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    arrange(&app, &team).await;
    let theirs = arrange(&app, &other).await;
    let viewer = Some(team.viewer.token.as_str());

    let reply = app
        .call(
            Method::GET,
            &format!("/api/v2/orgs/acme/tasks/{}", theirs.login),
            viewer,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let (ours, _) = all_pages(&app, &team.viewer.token, "/api/v2/orgs/acme/tasks").await;
    assert_eq!(ours.len(), 6);
    let (found, _) = all_pages(&app, &team.viewer.token, "/api/v2/orgs/acme/tasks?q=stripe").await;
    assert_eq!(found.len(), 1, "the search stays in the organization");
    assert!(
        ours.iter()
            .chain(&found)
            .all(|t| t["repository_id"] != theirs.web.to_string())
    );
    let (filtered, _) = all_pages(
        &app,
        &team.viewer.token,
        &format!("/api/v2/orgs/acme/tasks?project={}", theirs.ui),
    )
    .await;
    assert_eq!(filtered, Vec::<Value>::new());
}
