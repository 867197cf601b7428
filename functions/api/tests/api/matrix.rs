//! The role matrix, generated from the route table: every organization route called as anonymous,
//! as each role of the organization and as an owner of another one, against its declared
//! permission; every signed-in route refuses anonymous callers; the table itself is consistent; and
//! a handler that asks for a member on a route that declared none fails closed.

use axum::routing::get;
use dashboard_api::{
    auth::{
        context::{Account, Member},
        permission::{OrgPermission, Permission},
    },
    orgs::tokens::create_api_token,
    routes::{self, Route},
};
use dashboard_shared::{
    domain::Role,
    jobs::{self, kinds::RelinkOrganization},
};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    support::TestApp,
    team::{Person, Team, signed_in},
};

/// Who calls.
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    Anonymous,
    Role(Role),
    OtherOrgOwner,
}

pub const CALLERS: [Caller; 6] = [
    Caller::Anonymous,
    Caller::Role(Role::Viewer),
    Caller::Role(Role::Member),
    Caller::Role(Role::Admin),
    Caller::Role(Role::Owner),
    Caller::OtherOrgOwner,
];

/// A plausible body for the route, so that an allowed caller reaches the handler's own checks.
fn body_for(method: &Method, path: &str) -> Option<Value> {
    let body = match (method.as_str(), path.rsplit('/').next().unwrap_or("")) {
        ("PATCH", "{org}") => json!({ "name": "Renamed" }),
        ("PATCH", "{account_id}") => json!({ "role": "viewer" }),
        ("POST", "invitations") => json!({ "email": "new@example.test", "role": "viewer" }),
        ("POST", "tokens") => json!({ "name": "ci" }),
        // The pair `sample_link` links.
        ("POST", "links") => json!({ "commit": SAMPLE_SHA, "task": "TASK-M-1" }),
        ("POST", "repositories") => json!({ "url": "https://git.example.test/acme/new.git" }),
        ("PATCH", "{id}") => json!({ "poll_interval": 600 }),
        ("GET" | "DELETE", _) => return None,
        _ => json!({}),
    };
    Some(body)
}

/// `path` with its parameters replaced by real ids of `team`'s rows, as `caller` (a member of
/// `team`, if any) would name them.
pub async fn concrete_path(
    app: &TestApp,
    team: &Team,
    caller: Option<&Person>,
    path: &str,
) -> String {
    let mut concrete = path.replace("{org}", &team.slug);
    if concrete.contains("{installation_id}") {
        let installation = installation(app, team).await;
        concrete = concrete.replace("{installation_id}", &installation.to_string());
    }
    if concrete.contains("{account_id}") {
        concrete = concrete.replace("{account_id}", &team.subject.id.to_string());
    }
    if concrete.contains("{commit_id}") || concrete.ends_with("/links") {
        let (commit, task) = sample_link(app, team).await;
        concrete = concrete
            .replace("{commit_id}", &commit.to_string())
            .replace("{task_id}", &task.to_string());
    }
    if concrete.contains("{id}") {
        let id = if concrete.contains("/members/{id}") {
            team.subject.id
        } else if concrete.contains("/invitations/") {
            team.invitation(app, "pending@example.test", "viewer").await
        } else if concrete.contains("/tokens/") {
            // One's own token: every role may revoke its own.
            let owner = caller.unwrap_or(&team.subject);
            own_token(app, team, owner.id).await
        } else if concrete.contains("/repositories/{id}") {
            sample_data(app, team).await.0
        } else if concrete.contains("/projects/{id}") {
            sample_data(app, team).await.1
        } else if concrete.contains("/jobs/{id}") {
            if concrete.ends_with("/replay") {
                dead_job(app, team).await
            } else {
                let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
                let job = jobs::enqueue(&mut tx, &RelinkOrganization {})
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
                job.unwrap()
            }
        } else if concrete.contains("/tasks/{id}") {
            sample_task_and_commit(app, team).await.0
        } else {
            panic!("the matrix has no row to name `{{id}}` in {path}: add one to concrete_path");
        };
        concrete = concrete.replace("{id}", &id.to_string());
    }
    if concrete.contains("{sha}") {
        let sha = sample_task_and_commit(app, team).await.1;
        concrete = concrete.replace("{sha}", &sha[..7]);
    }
    assert!(
        !concrete.contains('{'),
        "unknown parameter in {path}: teach concrete_path"
    );
    concrete
}

/// A repository of `team` with one project at its root: their ids.
async fn sample_data(app: &TestApp, team: &Team) -> (Uuid, Uuid) {
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let repository: Uuid = sqlx::query_scalar(
        "insert into repositories (provider, full_name, clone_url)
         values ('git', 'acme/app', 'https://git.example.test/acme/app.git') returning id",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let project: Uuid = sqlx::query_scalar(
        "insert into projects (repository_id, path, type, types, name) values ($1, '', 'npm', '{npm}', 'app')
         returning id",
    )
    .bind(repository)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (repository, project)
}

/// A GitHub App installation connected to `team`: its id.
async fn installation(app: &TestApp, team: &Team) -> i64 {
    sqlx::query_scalar(
        "insert into app.installations (tenant_id, installation_id)
         select $1, coalesce(max(installation_id), 0) + 1 from app.installations
         returning installation_id",
    )
    .bind(team.tenant)
    .fetch_one(&app.admin)
    .await
    .unwrap()
}

/// The SHA of the commit `sample_link` links.
pub const SAMPLE_SHA: &str = "abababababababababababababababababababab";

/// A repository of `team` with a commit linked to a task (`TASK-M-1`): their ids.
async fn sample_link(app: &TestApp, team: &Team) -> (Uuid, Uuid) {
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let repository: Uuid = sqlx::query_scalar(
        "insert into repositories (provider, full_name, clone_url)
         values ('git', 'acme/linked', 'https://git.example.test/acme/linked.git') returning id",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let commit: Uuid = sqlx::query_scalar(
        "insert into commits (repository_id, sha, message) values ($1, $2, 'Fixes TASK-M-1')
         returning id",
    )
    .bind(repository)
    .bind(SAMPLE_SHA)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let task: Uuid = sqlx::query_scalar(
        "insert into tasks (repository_id, source, external_key, title)
         values ($1, 'tasklist', 'TASK-M-1', 'Matrix') returning id",
    )
    .bind(repository)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "insert into commit_task_links (commit_id, task_id, method, relation, confidence)
         values ($1, $2, 'explicit', 'closes', 1)",
    )
    .bind(commit)
    .bind(task)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (commit, task)
}

/// A task and a commit of `team` (in a repository of [`sample_data`]): the task's id and the
/// commit's SHA.
async fn sample_task_and_commit(app: &TestApp, team: &Team) -> (Uuid, String) {
    let (repository, _) = sample_data(app, team).await;
    let sha = "0123456789abcdef0123456789abcdef01234567".to_owned();
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let task: Uuid = sqlx::query_scalar(
        "insert into tasks (repository_id, source, external_key, title) values ($1, 'tasklist', 'TASK-1', 'One')
         returning id",
    )
    .bind(repository)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query("insert into commits (repository_id, sha, message) values ($1, $2, 'One')")
        .bind(repository)
        .bind(&sha)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (task, sha)
}

/// A dead job of `team`.
async fn dead_job(app: &TestApp, team: &Team) -> Uuid {
    sqlx::query_scalar(
        "insert into app.jobs (tenant_id, queue, kind, status, attempts)
         values ($1, 'link', 'link_commits', 'dead', 5) returning id",
    )
    .bind(team.tenant)
    .fetch_one(&app.admin)
    .await
    .unwrap()
}

async fn own_token(app: &TestApp, team: &Team, account: Uuid) -> Uuid {
    let mut tx = app.state.db.member(team.tenant, account).await.unwrap();
    let created = create_api_token(&mut tx, account, "mine", Some(Role::Viewer), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    created.api_token.id
}

/// Whether `status` means the permission check let the caller through (the body may still fail).
pub fn passed_the_gate(status: StatusCode) -> bool {
    ![
        StatusCode::UNAUTHORIZED,
        StatusCode::FORBIDDEN,
        StatusCode::NOT_FOUND,
    ]
    .contains(&status)
        && !status.is_server_error()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn every_organization_route_answers_each_role_as_its_permission_says(admin: PgPool) {
    let app = TestApp::new(admin);
    let outsider = signed_in(&app, "owner@elsewhere.test").await;
    app.create_org(&outsider.token, "elsewhere").await;
    let table: Vec<(Method, String, OrgPermission)> = routes::table()
        .into_iter()
        .filter_map(|route| match route.permission {
            Permission::Org(needed) => Some((route.method, route.path, needed)),
            _ => None,
        })
        .collect();
    assert!(
        table.len() >= 14,
        "the organization routes: {}",
        table.len()
    );

    let mut failures = Vec::new();
    for (n, (method, path, needed)) in table.iter().enumerate() {
        for (c, caller) in CALLERS.into_iter().enumerate() {
            // A fresh team for every call: an allowed call may delete what the next one needs.
            let team = Team::new(&app, &format!("m{n}-{c}")).await;
            let person = match caller {
                Caller::Anonymous => None,
                Caller::Role(role) => Some(team.with(role).clone()),
                Caller::OtherOrgOwner => Some(outsider.clone()),
            };
            let member = person
                .as_ref()
                .filter(|_| matches!(caller, Caller::Role(_)));
            let concrete = concrete_path(&app, &team, member, path).await;
            let token = person.as_ref().map(|p| p.token.as_str());
            let reply = app
                .call(method.clone(), &concrete, token, body_for(method, path))
                .await;
            let fine = match caller {
                Caller::Anonymous => reply.status == StatusCode::UNAUTHORIZED,
                Caller::OtherOrgOwner => reply.status == StatusCode::NOT_FOUND,
                Caller::Role(role) if needed.allows(role) => passed_the_gate(reply.status),
                Caller::Role(_) => reply.status == StatusCode::FORBIDDEN,
            };
            if !fine {
                failures.push(format!(
                    "{method} {path} ({needed:?}) as {caller:?}: {reply:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn every_signed_in_route_refuses_anonymous_callers(admin: PgPool) {
    let app = TestApp::new(admin);
    let signed_in: Vec<Route> = routes::table()
        .into_iter()
        .filter(|route| route.permission == Permission::SignedIn)
        .collect();
    assert!(signed_in.len() >= 4);
    for route in signed_in {
        let path = route.path.replace('{', "x").replace('}', "");
        let body = body_for(&route.method, &route.path);
        let reply = app.call(route.method.clone(), &path, None, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{} {}",
            route.method,
            route.path
        );
    }
}

#[test]
fn every_route_declares_a_permission_that_fits_its_path() {
    let table = routes::table();
    let mut seen = std::collections::HashSet::new();
    for route in &table {
        assert!(
            seen.insert((route.method.clone(), route.path.clone())),
            "{} {} twice",
            route.method,
            route.path
        );
        let in_org = route.path.starts_with("/api/v2/orgs/{org}");
        let org_permission = matches!(route.permission, Permission::Org(_));
        assert_eq!(
            in_org, org_permission,
            "{} {}: {:?}",
            route.method, route.path, route.permission
        );
        assert!(
            route.path.starts_with("/api/v2/")
                || route.path.starts_with("/.well-known/")
                || route.path == "/openapi.json",
            "{}",
            route.path
        );
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_handler_asking_for_a_member_on_a_route_that_granted_none_fails_closed(admin: PgPool) {
    let app = TestApp::new(admin);
    let (_, token) = app.person("alice@example.test").await;
    app.create_org(&token, "acme").await;
    let state = app.state.clone();
    let probe = |permission| {
        let member = get(|_: Member| async { "member" });
        let account = get(|_: Account| async { "account" });
        routes::build(
            &state,
            vec![
                Route::new(Method::GET, "/probe/{org}/member", permission, member),
                Route::new(Method::GET, "/probe/{org}/account", permission, account),
            ],
        )
        .with_state(state.clone())
    };
    let call = |router: axum::Router, path: &'static str| {
        let token = token.clone();
        async move {
            let request = http::Request::get(path)
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap();
            tower::ServiceExt::oneshot(router, request)
                .await
                .unwrap()
                .status()
        }
    };

    let signed_in = probe(Permission::SignedIn);
    assert_eq!(
        call(signed_in.clone(), "/probe/acme/member").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(call(signed_in, "/probe/acme/account").await, StatusCode::OK);
    let public = probe(Permission::Public);
    assert_eq!(
        call(public.clone(), "/probe/acme/member").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        call(public, "/probe/acme/account").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let org = probe(Permission::Org(OrgPermission::View));
    assert_eq!(call(org, "/probe/acme/member").await, StatusCode::OK);
}
