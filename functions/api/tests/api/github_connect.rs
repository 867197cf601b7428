//! Connecting GitHub repositories against the fake GitHub of `github_fake`: the App's install flow
//! (the state forged, replayed or carried to another browser; a GitHub account that cannot reach
//! the installation; an installation another organization has), choosing an installation's
//! repositories or following its selection, and a repository's own webhook, created with a fresh
//! secret and deleted on disconnect. GitHub's refusals come back as problems in words.

use dashboard_api::api::github::{self, WebhookRemoval};
use dashboard_shared::crypto::{git_credential_context, webhook_secret_context};
use http::{Method, StatusCode};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    github_fake::{
        ADMIN_PAT, FakeGitHub, READ_PAT, SLUG, at_github, begin, connect_installation, location,
        repo,
    },
    providers_support::{get as call_get, set_cookie},
    support::TestApp,
    team::Team,
};

/// The fake with installation 4242 (of `acme-gh`, reaching three repositories) being installed,
/// reachable by the person's GitHub account, among other installations (so the list is paged).
async fn github_with_installation() -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    {
        let mut state = fake.lock();
        state.installing = 4242;
        state.user_installations = vec![
            (1, "someone".into()),
            (2, "else".into()),
            (4242, "acme-gh".into()),
        ];
        state.installations.insert(
            4242,
            vec![
                repo(101, "acme-gh/api"),
                repo(102, "acme-gh/web"),
                repo(103, "acme-gh/docs"),
            ],
        );
    }
    fake
}

async fn installations_of(app: &TestApp, team: &Team) -> Value {
    let reply = team
        .call(
            app,
            &team.viewer,
            Method::GET,
            "/github/installations",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.admin).await.unwrap()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_admin_connects_an_installation_their_github_account_reaches(admin: PgPool) {
    let fake = github_with_installation().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = Team::new(&app, "acme").await;

    let begun = begin(&app, &team, &team.admin).await;
    assert!(
        begun.location.starts_with(&format!(
            "{}/apps/{SLUG}/installations/new?state=",
            fake.url
        )),
        "{}",
        begun.location
    );
    let setup = at_github(&begun.location).await;
    assert!(setup.starts_with("/api/v2/github/setup?installation_id=4242&setup_action=install"));
    let reply = call_get(&app, &setup, Some(&begun.cookie)).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{reply:?}");
    assert!(location(&reply).starts_with(&format!("{}/login/oauth/authorize?", fake.url)));
    let cookie = set_cookie(&reply, "__Host-github-install").unwrap();
    assert_ne!(
        cookie, begun.cookie,
        "each step binds a fresh browser secret"
    );
    let callback = at_github(&location(&reply)).await;
    let done = call_get(&app, &callback, Some(&cookie)).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER, "{done:?}");
    assert_eq!(location(&done), "/orgs/done");
    assert!(
        done.headers[http::header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0"),
        "the flow cookie is cleared"
    );
    let listed = installations_of(&app, &team).await;
    assert_eq!(listed[0]["installation_id"], 4242);
    assert_eq!(listed[0]["account_login"], "acme-gh");
    assert_eq!(listed[0]["follow_selection"], false);
    assert_eq!(listed[0]["connected_by"], team.admin.id.to_string());
    assert_eq!(
        team.audit_actions(&app).await[0],
        "github.installation_connected"
    );

    // Going through the flow again for the same installation changes nothing.
    let again = connect_installation(&app, &team, &team.owner).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{again:?}");
    assert_eq!(
        installations_of(&app, &team)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_forged_state_is_refused_and_nothing_is_connected(admin: PgPool) {
    let fake = github_with_installation().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = Team::new(&app, "acme").await;
    let begun = begin(&app, &team, &team.admin).await;
    let setup = at_github(&begun.location).await;
    let (path, state) = setup.split_once("&state=").unwrap();
    let state = percent_encoding::percent_decode_str(state)
        .decode_utf8()
        .unwrap();

    // Another organization named in the claims, the signature kept: the signature fails.
    let mut parts: Vec<String> = state.split('.').map(str::to_owned).collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value =
        serde_json::from_slice(&base64::Engine::decode(&b64, &parts[1]).unwrap()).unwrap();
    claims["org"] = json!(Uuid::new_v4());
    parts[1] = base64::Engine::encode(&b64, serde_json::to_vec(&claims).unwrap());
    let forged = parts.join(".");
    // A state signed by another deployment's keys.
    let other = dashboard_api::ApiConfig::generated("http://127.0.0.1:8080");
    let foreign = other
        .keys
        .sign(dashboard_api::auth::keys::TokenType::GitHubInstall, &claims)
        .unwrap();
    // An access token of the admin where a state belongs: the type differs.
    let wrong_type = team.admin.token.clone();

    for state in [forged, foreign, wrong_type, "garbage".into()] {
        let reply = call_get(&app, &format!("{path}&state={state}"), Some(&begun.cookie)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
        assert!(
            reply.json["detail"]
                .as_str()
                .unwrap()
                .starts_with("state: "),
            "{reply:?}"
        );
    }
    let none = call_get(&app, path, Some(&begun.cookie)).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST, "{none:?}");
    assert_eq!(
        count(&app, "select count(*) from app.installations").await,
        0
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_state_works_once_and_only_in_the_browser_that_began(admin: PgPool) {
    let fake = github_with_installation().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = Team::new(&app, "acme").await;
    let begun = begin(&app, &team, &team.admin).await;
    let setup = at_github(&begun.location).await;

    // Another browser (the victim of a link the attacker began) has no cookie, or its own.
    let elsewhere = begin(&app, &team, &team.owner).await;
    for cookie in [None, Some(elsewhere.cookie.as_str())] {
        let reply = call_get(&app, &setup, cookie).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
        assert!(
            reply.json["detail"]
                .as_str()
                .unwrap()
                .contains("another browser")
        );
    }

    let first = call_get(&app, &setup, Some(&begun.cookie)).await;
    assert_eq!(first.status, StatusCode::FOUND, "{first:?}");
    let replayed = call_get(&app, &setup, Some(&begun.cookie)).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST, "{replayed:?}");
    assert!(
        replayed.json["detail"]
            .as_str()
            .unwrap()
            .contains("already used")
    );

    // The callback's state is single-use too, and GitHub's code with it.
    let cookie = set_cookie(&first, "__Host-github-install").unwrap();
    let callback = at_github(&location(&first)).await;
    assert_eq!(
        call_get(&app, &callback, Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
    let again = call_get(&app, &callback, Some(&cookie)).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{again:?}");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_person_whose_github_account_cannot_reach_the_installation_is_refused(admin: PgPool) {
    let fake = github_with_installation().await;
    // The setup URL names installation 9999 (spoofed, or installed by someone else).
    fake.lock().installing = 9999;
    let app = TestApp::with_config(admin, fake.config());
    let team = Team::new(&app, "acme").await;

    let reply = connect_installation(&app, &team, &team.admin).await;

    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    let detail = reply.json["detail"].as_str().unwrap();
    assert!(
        detail.contains("cannot reach installation 9999"),
        "{detail}"
    );
    assert_eq!(
        count(&app, "select count(*) from app.installations").await,
        0
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn someone_who_lost_the_right_to_manage_repositories_meanwhile_is_refused(admin: PgPool) {
    let fake = github_with_installation().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = Team::new(&app, "acme").await;
    let begun = begin(&app, &team, &team.admin).await;
    let setup = at_github(&begun.location).await;
    let reply = call_get(&app, &setup, Some(&begun.cookie)).await;
    sqlx::query("update app.memberships set role = 'member' where account_id = $1")
        .bind(team.admin.id)
        .execute(&app.admin)
        .await
        .unwrap();

    let cookie = set_cookie(&reply, "__Host-github-install").unwrap();
    let done = call_get(&app, &at_github(&location(&reply)).await, Some(&cookie)).await;

    assert_eq!(done.status, StatusCode::FORBIDDEN, "{done:?}");
    assert_eq!(
        count(&app, "select count(*) from app.installations").await,
        0
    );
    let member = team
        .call(&app, &team.member, Method::GET, "/github/install", None)
        .await;
    assert_eq!(member.status, StatusCode::FORBIDDEN, "{member:?}");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_installation_another_organization_has_is_not_taken_over(admin: PgPool) {
    let fake = github_with_installation().await;
    let app = TestApp::with_config(admin, fake.config());
    let first = Team::new(&app, "first").await;
    let second = Team::new(&app, "second").await;
    assert_eq!(
        connect_installation(&app, &first, &first.admin)
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    let reply = connect_installation(&app, &second, &second.admin).await;

    assert_eq!(reply.status, StatusCode::CONFLICT, "{reply:?}");
    assert!(
        reply.json["detail"]
            .as_str()
            .unwrap()
            .contains("another organization")
    );
    assert_eq!(installations_of(&app, &second).await, json!([]));
    assert_eq!(
        installations_of(&app, &first).await[0]["installation_id"],
        4242
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn github_refusing_or_failing_is_a_problem_in_words(admin: PgPool) {
    let fake = github_with_installation().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = Team::new(&app, "acme").await;

    fake.lock().refuse_codes = Some("bad_verification_code");
    let refused = connect_installation(&app, &team, &team.admin).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("GitHub refused")
    );
    assert!(
        !refused.json["detail"]
            .as_str()
            .unwrap()
            .contains(github_fake_secret())
    );

    fake.lock().refuse_codes = None;
    fake.lock().installations_fail = true;
    let failed = connect_installation(&app, &team, &team.admin).await;
    assert_eq!(failed.status, StatusCode::BAD_GATEWAY, "{failed:?}");
    assert_eq!(
        failed.headers[http::header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(
        failed.json["detail"],
        "GitHub answered /user/installations with 500 Internal Server Error: Server Error"
    );

    // The user declined the authorization on GitHub.
    fake.lock().installations_fail = false;
    let begun = begin(&app, &team, &team.admin).await;
    let setup = at_github(&begun.location).await;
    let reply = call_get(&app, &setup, Some(&begun.cookie)).await;
    let cookie = set_cookie(&reply, "__Host-github-install").unwrap();
    let callback = at_github(&location(&reply)).await;
    let (path, query) = callback.split_once('?').unwrap();
    let state = query.split('&').find(|p| p.starts_with("state=")).unwrap();
    let declined = call_get(
        &app,
        &format!("{path}?error=access_denied&{state}"),
        Some(&cookie),
    )
    .await;
    assert_eq!(declined.status, StatusCode::BAD_REQUEST, "{declined:?}");
    assert!(
        declined.json["detail"]
            .as_str()
            .unwrap()
            .contains("access_denied")
    );
}

fn github_fake_secret() -> &'static str {
    crate::github_fake::CLIENT_SECRET
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn without_a_github_app_the_install_flow_says_so(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let reply = team
        .call(&app, &team.admin, Method::GET, "/github/install", None)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{reply:?}");
    assert!(
        reply.json["detail"]
            .as_str()
            .unwrap()
            .contains("GITHUB_APP_SLUG")
    );
}

/// An organization with installation 4242 connected through the flow.
async fn connected(app: &TestApp) -> Team {
    let team = Team::new(app, "acme").await;
    let reply = connect_installation(app, &team, &team.admin).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{reply:?}");
    team
}

fn names(reply: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = reply
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn choosing_repositories_connects_them_and_disconnects_the_others(admin: PgPool) {
    let fake = github_with_installation().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = connected(&app).await;
    let choose = |names: Value| {
        team.call(
            &app,
            &team.admin,
            Method::PUT,
            "/github/installations/4242/repositories",
            Some(json!({ "repositories": names })),
        )
    };

    let reply = choose(json!(["acme-gh/api", "ACME-GH/Web", "acme-gh/api"])).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(names(&reply.json), ["acme-gh/api", "acme-gh/web"]);
    assert_eq!(reply.json[0]["installation_id"], 4242);
    assert_eq!(
        reply.json[0]["clone_url"],
        "https://github.com/acme-gh/api.git"
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from app.jobs where kind = 'scan_repository'"
        )
        .await,
        2,
        "each new repository is scanned"
    );
    let api_id = reply
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["full_name"] == "acme-gh/api")
        .unwrap()["id"]
        .clone();

    let available = team
        .call(
            &app,
            &team.admin,
            Method::GET,
            "/github/installations/4242/repositories",
            None,
        )
        .await;
    assert_eq!(available.status, StatusCode::OK, "{available:?}");
    assert_eq!(
        available
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (
                r["full_name"].as_str().unwrap(),
                r["repository_id"].is_string()
            ))
            .collect::<Vec<_>>(),
        [
            ("acme-gh/api", true),
            ("acme-gh/docs", false),
            ("acme-gh/web", true)
        ]
    );

    let reply = choose(json!(["acme-gh/web"])).await;
    assert_eq!(names(&reply.json), ["acme-gh/web"]);
    assert_eq!(
        sqlx::query_scalar::<_, i64>("select count(*) from app.repositories where id = $1::uuid")
            .bind(api_id.as_str().unwrap())
            .fetch_one(&app.admin)
            .await
            .unwrap(),
        0,
        "the repository left out is disconnected"
    );

    let unknown = choose(json!(["acme-gh/web", "acme-gh/secret"])).await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{unknown:?}"
    );
    assert_eq!(
        unknown.json["detail"],
        "repositories: installation 4242 does not reach acme-gh/secret"
    );
    let malformed = choose(json!(["../../user"])).await;
    assert_eq!(
        malformed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{malformed:?}"
    );
    assert!(
        malformed.json["detail"]
            .as_str()
            .unwrap()
            .starts_with("repositories: ")
    );

    sqlx::query("update app.tenants set max_repositories = 2 where slug = 'acme'")
        .execute(&app.admin)
        .await
        .unwrap();
    let over = choose(json!(["acme-gh/api", "acme-gh/web", "acme-gh/docs"])).await;
    assert_eq!(over.status, StatusCode::CONFLICT, "{over:?}");
    assert_eq!(
        over.json["detail"],
        "plan limit reached: the pro plan allows 2 repositories (max_repositories): this would connect 3"
    );
    assert_eq!(
        count(&app, "select count(*) from app.repositories").await,
        1,
        "nothing changed"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn following_the_selection_connects_everything_the_installation_reaches(admin: PgPool) {
    let fake = github_with_installation().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = connected(&app).await;

    let reply = team
        .call(
            &app,
            &team.admin,
            Method::PATCH,
            "/github/installations/4242",
            Some(json!({ "follow_selection": true })),
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["follow_selection"], true);
    assert_eq!(reply.json["repositories"], 3);
    let choose = team
        .call(
            &app,
            &team.admin,
            Method::PUT,
            "/github/installations/4242/repositories",
            Some(json!({ "repositories": [] })),
        )
        .await;
    assert_eq!(choose.status, StatusCode::CONFLICT, "{choose:?}");
    let unknown_field = team
        .call(
            &app,
            &team.admin,
            Method::PATCH,
            "/github/installations/4242",
            Some(json!({ "follow": true })),
        )
        .await;
    assert_eq!(
        unknown_field.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{unknown_field:?}"
    );

    let stop = team
        .call(
            &app,
            &team.admin,
            Method::PATCH,
            "/github/installations/4242",
            Some(json!({ "follow_selection": false })),
        )
        .await;
    assert_eq!(
        (
            stop.json["follow_selection"].as_bool(),
            stop.json["repositories"].as_i64()
        ),
        (Some(false), Some(3))
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn another_organization_cannot_touch_an_installation(admin: PgPool) {
    let fake = github_with_installation().await;
    let app = TestApp::with_config(admin, fake.config());
    let owner = connected(&app).await;
    let other = Team::new(&app, "other").await;

    for (method, path, body) in [
        (
            Method::PATCH,
            "/github/installations/4242",
            Some(json!({ "follow_selection": true })),
        ),
        (
            Method::PUT,
            "/github/installations/4242/repositories",
            Some(json!({ "repositories": ["acme-gh/api"] })),
        ),
        (Method::GET, "/github/installations/4242/repositories", None),
        (Method::DELETE, "/github/installations/4242", None),
    ] {
        let reply = other
            .call(&app, &other.owner, method.clone(), path, body)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {reply:?}"
        );
    }
    assert_eq!(installations_of(&app, &other).await, json!([]));
    assert_eq!(
        installations_of(&app, &owner).await[0]["follow_selection"],
        false
    );

    let gone = owner
        .call(
            &app,
            &owner.admin,
            Method::DELETE,
            "/github/installations/4242",
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    assert_eq!(installations_of(&app, &owner).await, json!([]));
}

/// The fake with `acme-gh/tools`, visible to both personal access tokens.
async fn github_with_repository() -> FakeGitHub {
    let fake = FakeGitHub::start().await;
    fake.lock()
        .repositories
        .insert("acme-gh/tools".into(), repo(555, "acme-gh/tools"));
    fake
}

async fn connect_hook(
    app: &TestApp,
    team: &Team,
    full_name: &str,
    token: &str,
) -> crate::support::Reply {
    team.call(
        app,
        &team.admin,
        Method::POST,
        "/github/repositories",
        Some(json!({ "full_name": full_name, "token": token })),
    )
    .await
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_repository_is_connected_with_its_own_webhook_and_a_fresh_secret(admin: PgPool) {
    let fake = github_with_repository().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = Team::new(&app, "acme").await;

    let reply = connect_hook(&app, &team, "acme-gh/tools", ADMIN_PAT).await;

    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let id: Uuid = reply.json["id"].as_str().unwrap().parse().unwrap();
    let hook_id = reply.json["webhook_hook_id"].as_i64().unwrap();
    assert_eq!(
        (
            reply.json["github_id"].as_i64(),
            reply.json["installation_id"].as_i64()
        ),
        (Some(555), None)
    );
    let (repo_name, hook) = fake.lock().hooks[&hook_id].clone();
    assert_eq!(repo_name, "acme-gh/tools");
    assert_eq!(hook["events"], json!(["push", "issues", "pull_request"]));
    assert_eq!(
        hook["config"]["url"],
        "https://hooks.dashboard.test/webhooks/github"
    );
    assert_eq!(hook["config"]["content_type"], "json");
    let secret = hook["config"]["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64, "32 random bytes in hex");

    // The webhook function finds the hook's secret by its id, sealed for this repository.
    let (tenant, repository, sealed): (Uuid, Uuid, Vec<u8>) = sqlx::query_as(
        "select tenant_id, repository_id, secret_encrypted from lookup.repository_hook_secrets($1)",
    )
    .bind(hook_id)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!((tenant, repository), (team.tenant.as_uuid(), id));
    let secrets = &app.state.config.secrets;
    let opened = secrets
        .open(&sealed, &webhook_secret_context(tenant, id))
        .unwrap();
    assert_eq!(opened.expose_secret(), secret);
    let (provider, credential, interval): (String, Vec<u8>, i32) = sqlx::query_as(
        "select provider, credential_encrypted, poll_interval_seconds from app.repositories where id = $1",
    )
    .bind(id)
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!(
        (provider.as_str(), interval),
        ("git", github::POLL_INTERVAL_SECONDS)
    );
    let token = secrets
        .open(&credential, &git_credential_context(tenant, id))
        .unwrap();
    assert_eq!(token.expose_secret(), ADMIN_PAT);
    assert_eq!(
        count(
            &app,
            "select count(*) from app.jobs where kind = 'poll_repository'"
        )
        .await,
        1
    );
    assert_eq!(team.audit_actions(&app).await[0], "github.webhook_created");

    let twice = connect_hook(&app, &team, "acme-gh/tools", ADMIN_PAT).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{twice:?}");
    assert_eq!(twice.json["detail"], "acme-gh/tools is already connected");
    assert_eq!(fake.lock().hooks.len(), 1);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn disconnecting_deletes_the_webhook_on_github(admin: PgPool) {
    let fake = github_with_repository().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = Team::new(&app, "acme").await;
    let connected = |reply: crate::support::Reply| -> Uuid {
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.json["id"].as_str().unwrap().parse().unwrap()
    };
    let disconnect = |id: Uuid| {
        team.call(
            &app,
            &team.admin,
            Method::DELETE,
            format!("/repositories/{id}"),
            None,
        )
    };
    let webhook_in_audit = async || -> Value {
        sqlx::query_scalar(
            "select details->'webhook' from app.audit_log
             where action = 'repository.disconnected' order by created_at desc, id desc limit 1",
        )
        .fetch_one(&app.admin)
        .await
        .unwrap()
    };

    // Another organization cannot reach it: 404, and the webhook stays.
    let id = connected(connect_hook(&app, &team, "acme-gh/tools", ADMIN_PAT).await);
    let other = Team::new(&app, "other").await;
    let elsewhere = other
        .call(
            &app,
            &other.admin,
            Method::DELETE,
            format!("/repositories/{id}"),
            None,
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND, "{elsewhere:?}");
    assert_eq!(fake.lock().hooks.len(), 1);

    // The disconnect deletes it on GitHub, and the audit log says so.
    let gone = disconnect(id).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    assert!(fake.lock().hooks.is_empty());
    assert_eq!(webhook_in_audit().await, json!("deleted on GitHub"));
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let after = github::disconnect_webhook(
        &mut tx,
        &app.state.config.github,
        &app.state.config.secrets,
        id,
    )
    .await
    .unwrap();
    assert_eq!(after, WebhookRemoval::NoWebhook);
    drop(tx);

    // A webhook someone deleted on GitHub already does not stop the disconnect.
    let id = connected(connect_hook(&app, &team, "acme-gh/tools", ADMIN_PAT).await);
    fake.lock().hooks.clear();
    let gone = disconnect(id).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    assert_eq!(webhook_in_audit().await, json!("already gone from GitHub"));
    let left: i64 = sqlx::query_scalar("select count(*) from app.repositories")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn github_refusing_a_webhook_is_a_problem_naming_the_field(admin: PgPool) {
    let fake = github_with_repository().await;
    let app = TestApp::with_config(admin, fake.config());
    let team = Team::new(&app, "acme").await;

    let cases = [
        (
            "acme/..",
            ADMIN_PAT,
            StatusCode::UNPROCESSABLE_ENTITY,
            "full_name: `acme/..` is not a GitHub repository's owner/name",
        ),
        (
            "acme-gh/tools",
            "",
            StatusCode::UNPROCESSABLE_ENTITY,
            "token: a GitHub token is 1–1024 visible characters",
        ),
        (
            "acme-gh/tools",
            "ghp_revoked",
            StatusCode::UNPROCESSABLE_ENTITY,
            "token: GitHub refused it (401 Unauthorized: Bad credentials)",
        ),
        (
            "acme-gh/nothing",
            ADMIN_PAT,
            StatusCode::UNPROCESSABLE_ENTITY,
            "full_name: GitHub shows no repository acme-gh/nothing to this token (404 Not Found: Not Found)",
        ),
        (
            "acme-gh/tools",
            READ_PAT,
            StatusCode::UNPROCESSABLE_ENTITY,
            "token: may not create webhooks on acme-gh/tools: it needs admin rights on the repository, or the Webhooks permission with write access (404 Not Found: Not Found)",
        ),
    ];
    for (full_name, token, status, detail) in cases {
        let reply = connect_hook(&app, &team, full_name, token).await;
        assert_eq!(
            (reply.status, reply.json["detail"].as_str()),
            (status, Some(detail)),
            "{full_name} {token}"
        );
    }

    // A webhook to our URL already exists there (made by hand, or by another organization).
    fake.lock().hooks.insert(
        1,
        (
            "acme-gh/tools".into(),
            json!({ "config": { "url": "https://hooks.dashboard.test/webhooks/github" } }),
        ),
    );
    let exists = connect_hook(&app, &team, "acme-gh/tools", ADMIN_PAT).await;
    assert_eq!(exists.status, StatusCode::CONFLICT, "{exists:?}");
    assert_eq!(
        exists.json["detail"],
        "GitHub refused to create the webhook on acme-gh/tools (422 Unprocessable Entity: Validation Failed (Hook already exists on this repository))"
    );
    assert_eq!(
        count(&app, "select count(*) from app.repositories").await,
        0
    );

    sqlx::query("update app.tenants set max_repositories = 1 where slug = 'acme'")
        .execute(&app.admin)
        .await
        .unwrap();
    sqlx::query("insert into app.repositories (tenant_id, provider, full_name, clone_url) values ($1, 'git', 'x', 'https://git.example/x.git')")
        .bind(team.tenant)
        .execute(&app.admin)
        .await
        .unwrap();
    fake.lock().hooks.clear();
    let over = connect_hook(&app, &team, "acme-gh/tools", ADMIN_PAT).await;
    assert_eq!(over.status, StatusCode::CONFLICT, "{over:?}");
    assert_eq!(
        over.json["detail"],
        "plan limit reached: the pro plan allows 1 repositories (max_repositories) and 1 are connected"
    );
    assert!(
        fake.lock().hooks.is_empty(),
        "no webhook made beyond the plan"
    );
}
