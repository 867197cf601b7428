//! Commits through the API: the list newest first with its filters and cursor pages, a commit by its
//! SHA or a prefix (ambiguous ones refused with their repositories), its links with why, the
//! overview's totals, and another organization's commits answered 404.

use dashboard_shared::TenantTx;
use http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    projects::seed,
    support::{Reply, TestApp},
    team::Team,
};

/// Inserts a commit of `repository`; returns its id.
pub async fn insert_commit(
    tx: &mut TenantTx,
    repository: Uuid,
    sha: &str,
    message: &str,
    author: (&str, &str),
    committed_at: &str,
) -> Uuid {
    sqlx::query_scalar(
        "insert into commits (repository_id, sha, message, author_name, author_email, committed_at)
         values ($1, $2, $3, $4, $5, $6::timestamptz) returning id",
    )
    .bind(repository)
    .bind(sha)
    .bind(message)
    .bind(author.0)
    .bind(author.1)
    .bind(committed_at)
    .fetch_one(&mut **tx)
    .await
    .unwrap()
}

/// Inserts a task of `repository`; returns its id.
pub async fn insert_task(
    tx: &mut TenantTx,
    repository: Uuid,
    project: Option<Uuid>,
    (source, key): (&str, &str),
    (title, body): (&str, &str),
    status: &str,
) -> Uuid {
    sqlx::query_scalar(
        "insert into tasks (repository_id, project_id, source, external_key, title, body, status)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
    )
    .bind(repository)
    .bind(project)
    .bind(source)
    .bind(key)
    .bind(title)
    .bind(body)
    .bind(status)
    .fetch_one(&mut **tx)
    .await
    .unwrap()
}

/// A link as the linker (or a person) stores it.
pub struct Link<'a> {
    pub method: &'a str,
    pub relation: &'a str,
    pub confidence: f32,
    pub state: &'a str,
    pub evidence: Value,
    pub by: Option<Uuid>,
}

/// Inserts `link` of `commit` to `task`.
pub async fn insert_link(tx: &mut TenantTx, commit: Uuid, task: Uuid, link: Link<'_>) {
    sqlx::query(
        "insert into commit_task_links
           (commit_id, task_id, method, relation, confidence, state, evidence, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(commit)
    .bind(task)
    .bind(link.method)
    .bind(link.relation)
    .bind(link.confidence)
    .bind(link.state)
    .bind(link.evidence)
    .bind(link.by)
    .execute(&mut **tx)
    .await
    .unwrap();
}

/// An explicit link naming `reference`.
pub fn explicit(reference: &str, relation: &'static str) -> Link<'static> {
    Link {
        method: "explicit",
        relation,
        confidence: 1.0,
        state: "active",
        evidence: json!({ "reference": reference }),
        by: None,
    }
}

/// A similarity link or suggestion sharing `terms`.
pub fn similar(score: f64, terms: &[&str], state: &'static str) -> Link<'static> {
    Link {
        method: "similarity",
        relation: "references",
        confidence: score as f32,
        state,
        evidence: json!({ "score": score, "terms": terms }),
        by: None,
    }
}

/// The `Link: rel="next"` target of a reply.
pub fn next_link(reply: &Reply) -> Option<String> {
    let link = reply.headers.get(header::LINK)?.to_str().unwrap();
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    Some(link.strip_prefix('<')?.split_once('>')?.0.to_owned())
}

/// Every page from `first` on, following `Link`: the rows, and how many pages.
pub async fn all_pages(app: &TestApp, token: &str, first: &str) -> (Vec<Value>, usize) {
    let mut rows = Vec::new();
    let mut pages = 0;
    let mut next = Some(first.to_owned());
    while let Some(path) = next {
        let reply = app.call(Method::GET, &path, Some(token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {reply:?}");
        rows.extend(reply.json.as_array().unwrap().iter().cloned());
        next = next_link(&reply);
        pages += 1;
    }
    (rows, pages)
}

fn field<'a>(rows: &'a [Value], name: &str) -> Vec<&'a str> {
    rows.iter().map(|r| r[name].as_str().unwrap()).collect()
}

fn sha(digit: char) -> String {
    digit.to_string().repeat(40)
}

/// Two repositories of `team`: web with four commits (one closes TASK-1, one is suggested for
/// it, one was linked and removed), cli with one commit. Returns (web, cli, TASK-1's id).
async fn arrange(app: &TestApp, team: &Team) -> (Uuid, Uuid, Uuid) {
    let (web, _) = seed(app, team, "acme/web", &[("", &["npm"])]).await;
    let (cli, _) = seed(app, team, "acme/cli", &[("", &["cargo"])]).await;
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let ada = ("Ada Lovelace", "ada@acme.test");
    let bob = ("Bob", "Bob@Acme.test");
    let c1 = insert_commit(
        &mut tx,
        web,
        &sha('1'),
        "Start\n\nThe beginning",
        ada,
        "2026-01-01T10:00:00Z",
    )
    .await;
    let c2 = insert_commit(
        &mut tx,
        web,
        &sha('2'),
        "Login form, fixes TASK-1",
        bob,
        "2026-01-02T10:00:00Z",
    )
    .await;
    let c3 = insert_commit(
        &mut tx,
        web,
        &sha('3'),
        "Token refresh",
        ada,
        "2026-01-03T10:00:00Z",
    )
    .await;
    insert_commit(
        &mut tx,
        web,
        &sha('4'),
        "Readme",
        bob,
        "2026-01-04T10:00:00Z",
    )
    .await;
    insert_commit(&mut tx, cli, &sha('5'), "CLI", ada, "2026-01-05T10:00:00Z").await;
    let task = insert_task(
        &mut tx,
        web,
        None,
        ("tasklist", "TASK-1"),
        ("Login form", "With a login token"),
        "done",
    )
    .await;
    insert_link(&mut tx, c2, task, explicit("TASK-1", "closes")).await;
    insert_link(
        &mut tx,
        c3,
        task,
        similar(0.42, &["login", "token"], "suggested"),
    )
    .await;
    let removed = Link {
        state: "rejected",
        ..similar(0.7, &["start"], "active")
    };
    insert_link(&mut tx, c1, task, removed).await;
    tx.commit().await.unwrap();
    (web, cli, task)
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn commits_are_listed_newest_first_in_pages_with_their_links(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    arrange(&app, &team).await;
    let viewer = team.viewer.token.as_str();

    let (rows, pages) = all_pages(&app, viewer, "/api/v2/orgs/acme/commits?limit=2").await;
    assert_eq!(pages, 3);
    assert_eq!(
        field(&rows, "sha"),
        ["5", "4", "3", "2", "1"].map(|d| d.repeat(40))
    );
    assert_eq!(rows[0]["repository"], "acme/cli");
    assert_eq!(rows[0]["dated_at"], "2026-01-05T10:00:00Z");
    let login = &rows[3];
    assert_eq!(login["title"], "Login form, fixes TASK-1");
    assert_eq!(login["author_email"], "Bob@Acme.test");
    assert_eq!(login["links"][0]["task"]["key"], "TASK-1");
    assert_eq!(login["links"][0]["task"]["status"], "done");
    assert_eq!(login["links"][0]["method"], "explicit");
    assert_eq!(login["links"][0]["relation"], "closes");
    assert_eq!(login["links"][0]["why"]["reference"], "TASK-1");
    let token = &rows[2];
    assert_eq!(token["links"][0]["state"], "suggested");
    assert_eq!(token["links"][0]["why"]["terms"], json!(["login", "token"]));
    assert_eq!(
        rows[4]["links"],
        json!([]),
        "a removed link is not among a commit's links"
    );
    assert_eq!(rows[4]["title"], "Start", "the message's first line");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn commits_are_filtered_by_repository_author_time_link_and_task(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let (web, cli, task) = arrange(&app, &team).await;
    let viewer = team.viewer.token.as_str();
    let shas = |query: String| {
        let app = &app;
        async move {
            let path = format!("/api/v2/orgs/acme/commits?{query}");
            let (rows, _) = all_pages(app, viewer, &format!("{path}&limit=1")).await;
            rows.iter()
                .map(|r| r["sha"].as_str().unwrap()[..1].to_owned())
                .collect::<String>()
        }
    };
    assert_eq!(shas(format!("repository={web}")).await, "4321");
    assert_eq!(shas(format!("repository={cli}")).await, "5");
    assert_eq!(shas("author=bob@acme.TEST".into()).await, "42");
    assert_eq!(shas("author=ada%20lovelace".into()).await, "531");
    assert_eq!(shas("author=Ada".into()).await, "", "a whole name");
    assert_eq!(
        shas("since=2026-01-02T10:00:00Z&until=2026-01-04T10:00:00Z".into()).await,
        "32",
        "since included, until not"
    );
    assert_eq!(
        shas("since=2026-01-03T11:00:00%2B01:00".into()).await,
        "543",
        "an offset is honoured"
    );
    assert_eq!(shas("linked=true".into()).await, "2");
    assert_eq!(
        shas("linked=false".into()).await,
        "5431",
        "suggestions and removed links do not count"
    );
    assert_eq!(shas(format!("task={task}")).await, "2");
    assert_eq!(
        shas(format!("task={task}&repository={cli}")).await,
        "",
        "filters combine"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn bad_commit_filters_are_problems_naming_the_field(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let token = Some(team.viewer.token.as_str());
    for (query, status, field) in [
        ("since=yesterday", StatusCode::UNPROCESSABLE_ENTITY, "since"),
        (
            "until=2026-13-01T00:00:00Z",
            StatusCode::UNPROCESSABLE_ENTITY,
            "until",
        ),
        (
            "since=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "since",
        ),
        (
            "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            StatusCode::UNPROCESSABLE_ENTITY,
            "until",
        ),
        ("author=", StatusCode::UNPROCESSABLE_ENTITY, "author"),
        ("author=a%00b", StatusCode::UNPROCESSABLE_ENTITY, "author"),
        ("limit=201", StatusCode::UNPROCESSABLE_ENTITY, "limit"),
        ("linked=maybe", StatusCode::BAD_REQUEST, "linked"),
        ("task=42", StatusCode::BAD_REQUEST, "task"),
        ("cursor=e30", StatusCode::BAD_REQUEST, "cursor"),
    ] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/v2/orgs/acme/commits?{query}"),
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
        // Our own checks name the field first; the query string's parser names it after its
        // preamble.
        let named = if status == StatusCode::UNPROCESSABLE_ENTITY {
            detail.starts_with(&format!("{field}: "))
        } else {
            detail.contains(&format!("{field}: "))
        };
        assert!(named, "{query}: {detail}");
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_commit_is_found_by_its_sha_or_a_prefix_with_its_links_and_why(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let (_, _, task) = arrange(&app, &team).await;
    let viewer = Some(team.viewer.token.as_str());

    for given in [sha('2'), "2222222".to_owned()] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/v2/orgs/acme/commits/{given}"),
                viewer,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{given}: {reply:?}");
        assert_eq!(reply.json["sha"], sha('2'));
        assert_eq!(reply.json["message"], "Login form, fixes TASK-1");
        let link = &reply.json["links"][0];
        assert_eq!(link["task"]["id"], task.to_string());
        assert_eq!(link["method"], "explicit");
        assert_eq!(link["relation"], "closes");
        assert_eq!(link["confidence"], 1.0);
        assert_eq!(link["state"], "active");
        assert_eq!(link["why"]["reference"], "TASK-1");
        assert_eq!(link["why"]["terms"], Value::Null);
    }

    let first = app
        .call(
            Method::GET,
            &format!("/api/v2/orgs/acme/commits/{}", sha('1')),
            viewer,
            None,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    assert_eq!(first.json["links"], json!([]));
    assert_eq!(first.json["removed_links"][0]["state"], "rejected");
    assert_eq!(
        first.json["removed_links"][0]["why"]["terms"],
        json!(["start"])
    );
    assert_eq!(first.json["removed_links"][0]["why"]["score"], 0.7);

    let suggested = app
        .call(
            Method::GET,
            &format!("/api/v2/orgs/acme/commits/{}", &sha('3')[..10]),
            viewer,
            None,
        )
        .await;
    let link = &suggested.json["links"][0];
    assert_eq!(link["method"], "similarity");
    assert_eq!(link["state"], "suggested");
    assert_eq!(link["confidence"], 0.42);
    assert_eq!(link["why"]["terms"], json!(["login", "token"]));
    assert_eq!(link["why"]["reference"], Value::Null);

    for (given, status, detail) in [
        ("222222", StatusCode::UNPROCESSABLE_ENTITY, "sha:"),
        ("222222z", StatusCode::UNPROCESSABLE_ENTITY, "sha:"),
        ("6666666", StatusCode::NOT_FOUND, "not found"),
    ] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/v2/orgs/acme/commits/{given}"),
                viewer,
                None,
            )
            .await;
        assert_eq!(reply.status, status, "{given}: {reply:?}");
        assert!(
            reply.json["detail"].as_str().unwrap().starts_with(detail),
            "{reply:?}"
        );
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_sha_naming_several_commits_is_refused_with_their_repositories(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let (upstream, _) = seed(&app, &team, "acme/web", &[]).await;
    let (fork, _) = seed(&app, &team, "someone/web", &[]).await;
    let shared = format!("abcdef1{}", "0".repeat(33));
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let at = "2026-01-01T00:00:00Z";
    for repository in [upstream, fork] {
        insert_commit(&mut tx, repository, &shared, "Both", ("A", "a@x.test"), at).await;
    }
    let other = format!("abcdef2{}", "0".repeat(33));
    insert_commit(&mut tx, upstream, &other, "One", ("A", "a@x.test"), at).await;
    tx.commit().await.unwrap();
    let viewer = Some(team.viewer.token.as_str());
    let get = |path: String| {
        let app = &app;
        async move { app.call(Method::GET, &path, viewer, None).await }
    };

    let prefix = get("/api/v2/orgs/acme/commits/abcdef".to_owned() + "0").await;
    assert_eq!(prefix.status, StatusCode::NOT_FOUND);
    let short = get("/api/v2/orgs/acme/commits/abcdef1".to_owned()).await;
    assert_eq!(short.status, StatusCode::CONFLICT, "{short:?}");
    let detail = short.json["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("sha: abcdef1 names several commits"),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("{shared} in acme/web ({upstream})"))
            && detail.contains(&format!("{shared} in someone/web ({fork})")),
        "{detail}"
    );
    let full = get(format!("/api/v2/orgs/acme/commits/{shared}")).await;
    assert_eq!(
        full.status,
        StatusCode::CONFLICT,
        "one SHA in two repositories"
    );
    let chosen = get(format!(
        "/api/v2/orgs/acme/commits/{shared}?repository={fork}"
    ))
    .await;
    assert_eq!(chosen.status, StatusCode::OK);
    assert_eq!(chosen.json["repository"], "someone/web");
    let bad = get(format!("/api/v2/orgs/acme/commits/{shared}?repository=x")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{bad:?}");
    assert!(
        bad.json["detail"].as_str().unwrap().contains("repository"),
        "{bad:?}"
    );
    let unique = get("/api/v2/orgs/acme/commits/ABCDEF2".to_owned()).await;
    assert_eq!(unique.status, StatusCode::OK, "any case: {unique:?}");
    assert_eq!(unique.json["sha"], other);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn another_organizations_commits_are_404_and_never_listed(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    arrange(&app, &team).await;
    let (theirs, _) = seed(&app, &other, "other/app", &[]).await;
    let mut tx = app.state.db.tenant(other.tenant).await.unwrap();
    let secret = sha('9');
    insert_commit(
        &mut tx,
        theirs,
        &secret,
        "Theirs",
        ("O", "o@x.test"),
        "2026-02-01T00:00:00Z",
    )
    .await;
    tx.commit().await.unwrap();
    let viewer = team.viewer.token.as_str();

    let (rows, _) = all_pages(&app, viewer, "/api/v2/orgs/acme/commits").await;
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["sha"] != secret.as_str()));
    for path in [
        format!("/api/v2/orgs/acme/commits/{secret}"),
        format!("/api/v2/orgs/acme/commits/{}", &secret[..7]),
        format!("/api/v2/orgs/acme/commits?repository={theirs}"),
    ] {
        let reply = app.call(Method::GET, &path, Some(viewer), None).await;
        if path.contains('?') {
            assert_eq!(reply.json, json!([]), "{path}");
        } else {
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        }
    }
    let totals = app
        .call(
            Method::GET,
            "/api/v2/orgs/acme/overview",
            Some(viewer),
            None,
        )
        .await;
    assert_eq!(
        totals.json,
        json!({
            "repositories": 2, "projects": 2, "tasks": 1, "tasks_done": 1,
            "commits": 5, "links": 1, "suggestions": 1
        })
    );
}
