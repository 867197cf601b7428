//! Projects through the API: filters, cursor pages with `Link`, entity tags, one project with what
//! is in it, a repository's tree, and another organization's ids answered 404.

use http::{Method, Request, StatusCode, header};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{support::TestApp, team::Team};

/// Inserts a repository with `projects` (directory, types: the primary first) in `team`'s
/// organization; returns the repository's id and the projects' ids by directory.
pub async fn seed(
    app: &TestApp,
    team: &Team,
    name: &str,
    projects: &[(&str, &[&str])],
) -> (Uuid, Vec<Uuid>) {
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let repository: Uuid = sqlx::query_scalar(
        "insert into repositories (provider, full_name, clone_url) values ('git', $1, $2) returning id",
    )
    .bind(name)
    .bind(format!("https://git.example.test/{name}.git"))
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (path, types) in projects {
        let parent = if path.is_empty() {
            None
        } else {
            ids.first().copied()
        };
        let id: Uuid = sqlx::query_scalar(
            "insert into projects (repository_id, parent_id, path, type, types, name, tags, task_count, tasks_done)
             values ($1, $2, $3, $4[1], $4, $5, $6, 4, 1) returning id",
        )
        .bind(repository)
        .bind(parent)
        .bind(path)
        .bind(types.to_vec())
        .bind(format!("{name}:{path}"))
        .bind(if types[0] == "cargo" { vec!["rust"] } else { vec![] })
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();
    (repository, ids)
}

fn paths(reply: &Value) -> Vec<String> {
    reply
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}:{}",
                p["repository"].as_str().unwrap(),
                p["path"].as_str().unwrap()
            )
        })
        .collect()
}

/// The `cursor` of a `Link: <…>; rel="next"` header.
fn next_link(reply: &crate::support::Reply) -> Option<String> {
    let link = reply.headers.get(header::LINK)?.to_str().unwrap();
    let target = link.strip_prefix('<')?.split_once('>')?.0;
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    Some(target.to_owned())
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn projects_are_listed_in_pages_linked_by_their_cursor(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    seed(
        &app,
        &team,
        "acme/web",
        &[
            ("", &["npm", "tasklist"]),
            ("packages/ui", &["npm"]),
            ("packages/api", &["cargo", "npm"]),
        ],
    )
    .await;
    seed(&app, &team, "acme/cli", &[("", &["cargo"])]).await;
    let viewer = team.viewer.token.as_str();

    let mut seen = Vec::new();
    let mut next = Some("/api/v2/orgs/acme/projects?limit=2".to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let reply = app.call(Method::GET, &path, Some(viewer), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert!(reply.json.as_array().unwrap().len() <= 2);
        seen.extend(paths(&reply.json));
        next = next_link(&reply);
        pages += 1;
    }
    assert_eq!(pages, 2);
    assert_eq!(
        seen,
        [
            "acme/cli:",
            "acme/web:",
            "acme/web:packages/api",
            "acme/web:packages/ui"
        ]
    );

    let cargo = app
        .call(
            Method::GET,
            "/api/v2/orgs/acme/projects?type=cargo",
            Some(viewer),
            None,
        )
        .await;
    assert_eq!(paths(&cargo.json), ["acme/cli:", "acme/web:packages/api"]);
    for (kind, expected) in [
        (
            "npm",
            &["acme/web:", "acme/web:packages/api", "acme/web:packages/ui"][..],
        ),
        ("tasklist", &["acme/web:"][..]),
        ("go", &[][..]),
    ] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/v2/orgs/acme/projects?type={kind}"),
                Some(viewer),
                None,
            )
            .await;
        assert_eq!(
            paths(&reply.json),
            expected,
            "any of a project's types: {kind}"
        );
    }
    let listed: Vec<Value> = {
        let reply = app
            .call(
                Method::GET,
                "/api/v2/orgs/acme/projects?type=tasklist",
                Some(viewer),
                None,
            )
            .await;
        reply.json.as_array().unwrap().clone()
    };
    assert_eq!(
        (&listed[0]["type"], &listed[0]["types"]),
        (&Value::from("npm"), &serde_json::json!(["npm", "tasklist"])),
        "the primary type and every type of the directory"
    );
    let tagged = app
        .call(
            Method::GET,
            "/api/v2/orgs/acme/projects?tag=rust&q=PACKAGES",
            Some(viewer),
            None,
        )
        .await;
    assert_eq!(paths(&tagged.json), ["acme/web:packages/api"]);
    let api = &tagged.json[0];
    assert_eq!(api["type"], "cargo");
    assert_eq!(api["types"], serde_json::json!(["cargo", "npm"]));
    assert_eq!(api["parent_path"], "");
    assert_eq!(api["name"], "acme/web:packages/api");
    let wildcard = app
        .call(
            Method::GET,
            "/api/v2/orgs/acme/projects?q=%25",
            Some(viewer),
            None,
        )
        .await;
    assert_eq!(
        paths(&wildcard.json),
        Vec::<String>::new(),
        "`%` is taken literally"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_read_carries_an_etag_and_an_unchanged_one_answers_304(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    seed(&app, &team, "acme/web", &[("", &["npm"])]).await;
    let path = "/api/v2/orgs/acme/projects";
    let first = app
        .call(Method::GET, path, Some(&team.viewer.token), None)
        .await;
    let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
    let request = |etag: &str| {
        Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {}", team.viewer.token))
            .header(header::IF_NONE_MATCH, etag)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(
        app.send(request(&etag)).await.status,
        StatusCode::NOT_MODIFIED
    );
    seed(&app, &team, "acme/cli", &[("", &["cargo"])]).await;
    let changed = app.send(request(&etag)).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.headers[header::ETAG].to_str().unwrap(), etag);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn bad_filters_and_cursors_are_problems_naming_the_field(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let token = Some(team.viewer.token.as_str());
    for (query, status, field) in [
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY, "limit"),
        ("limit=500", StatusCode::UNPROCESSABLE_ENTITY, "limit"),
        ("cursor=bm9wZQ", StatusCode::BAD_REQUEST, "cursor"),
        (
            "repository=not-a-uuid",
            StatusCode::BAD_REQUEST,
            "repository",
        ),
    ] {
        let reply = app
            .call(
                Method::GET,
                &format!("/api/v2/orgs/acme/projects?{query}"),
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
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_project_shows_its_tasks_children_and_commits_and_another_orgs_is_404(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    let (repository, ids) = seed(
        &app,
        &team,
        "acme/web",
        &[("", &["npm"]), ("packages/ui", &["npm", "tasklist"])],
    )
    .await;
    let (other_repository, other_ids) = seed(&app, &other, "other/app", &[("", &["npm"])]).await;
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    for (sha, path, message) in [
        ("a".repeat(40), "packages/ui/button.tsx", "Button\n\nbody"),
        ("b".repeat(40), "README.md", "Readme"),
    ] {
        sqlx::query(
            "insert into commits (repository_id, sha, message, committed_at, changed_paths)
             values ($1, $2, $3, now(), $4)",
        )
        .bind(repository)
        .bind(sha)
        .bind(message)
        .bind(vec![path])
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    sqlx::query(
        "insert into tasks (repository_id, project_id, source, external_key, title, status)
         values ($1, $2, 'tasklist', 'TASK-1', 'One', 'done'), ($1, $2, 'tasklist', 'TASK-2', 'Two', 'open')",
    )
    .bind(repository)
    .bind(ids[1])
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let token = Some(team.viewer.token.as_str());

    let ui = app
        .call(
            Method::GET,
            &format!("/api/v2/orgs/acme/projects/{}", ids[1]),
            token,
            None,
        )
        .await;
    assert_eq!(ui.status, StatusCode::OK, "{ui:?}");
    assert_eq!(ui.json["path"], "packages/ui");
    assert_eq!(ui.json["tasks"]["done"], 1);
    assert_eq!(ui.json["tasks"]["open"], 1);
    let commits: Vec<&str> = ui.json["recent_commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(commits, ["Button"], "only commits under its directory");
    let root = app
        .call(
            Method::GET,
            &format!("/api/v2/orgs/acme/projects/{}", ids[0]),
            token,
            None,
        )
        .await;
    assert_eq!(root.json["children"][0]["path"], "packages/ui");
    assert_eq!(root.json["recent_commits"].as_array().unwrap().len(), 2);

    let tree = app
        .call(
            Method::GET,
            &format!("/api/v2/orgs/acme/repositories/{repository}/projects/tree"),
            token,
            None,
        )
        .await;
    assert_eq!(tree.status, StatusCode::OK);
    assert_eq!(tree.json[0]["children"][0]["path"], "packages/ui");
    assert_eq!(tree.json[0]["children"][0]["completion"], 0.25);
    assert_eq!(
        tree.json[0]["children"][0]["types"],
        serde_json::json!(["npm", "tasklist"])
    );

    for path in [
        format!("/api/v2/orgs/acme/projects/{}", other_ids[0]),
        format!("/api/v2/orgs/acme/repositories/{other_repository}/projects/tree"),
    ] {
        let reply = app.call(Method::GET, &path, token, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
}
