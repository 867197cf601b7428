//! The web dashboard's pages, in-process over a real PostgreSQL: the role matrix walked over the
//! pages' own route table with browser sessions (cookies, CSRF tokens), signing in through the
//! form, CSRF refusals, escaping, the security headers, and live changes from PostgreSQL's
//! `NOTIFY` to an organization's event stream. (The same pages in a real Chromium, with
//! screenshots and axe-core: `local/tests/browser.rs`.)

use std::time::Duration;

use axum::body::Body;
use dashboard_api::{auth::permission::Permission, web};
use dashboard_shared::domain::Role;
use http::{Method, Request, StatusCode, header};
use sqlx::PgPool;

use crate::{
    matrix::{CALLERS, Caller, SAMPLE_SHA, concrete_path, passed_the_gate},
    passwords::account_with_password,
    support::{Reply, TestApp},
    team::{Team, signed_in},
};

/// A CSRF token, as the cookie and the forms carry it.
const CSRF: &str = "abcdefghijabcdefghijabcdefghijabcdefghij012";

/// A page request with the browser session of `access` (an access token) and the CSRF cookie;
/// `form` goes as the form body with the token added.
fn page(method: Method, path: &str, access: Option<&str>, form: &[(&str, &str)]) -> Request<Body> {
    let mut cookies = vec![format!("__Host-csrf={CSRF}")];
    if let Some(token) = access {
        cookies.push(format!("__Host-access={token}"));
    }
    let reading = method == Method::GET;
    let builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookies.join("; "));
    if reading {
        return builder.body(Body::empty()).unwrap();
    }
    let mut fields: Vec<(&str, &str)> = vec![("csrf", CSRF)];
    fields.extend_from_slice(form);
    builder
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(&fields).unwrap()))
        .unwrap()
}

/// A plausible form for a page's `POST`, so that an allowed caller reaches the handler's checks.
fn form_for(path: &str) -> Vec<(&'static str, &'static str)> {
    match path.rsplit('/').next().unwrap_or("") {
        "role" => vec![("role", "viewer")],
        "links" => vec![("commit", SAMPLE_SHA), ("task", "TASK-M-1")],
        "reject" => vec![("sha", SAMPLE_SHA)],
        "tokens" => vec![
            ("name", "ci"),
            ("role", "viewer"),
            ("expires_in_days", "30"),
        ],
        // GitHub cannot be reached from tests: the form stops at its own checks.
        "repositories" if path.contains("/github/") => Vec::new(),
        "repositories" => vec![("url", "https://git.example.test/acme/new.git")],
        "invitations" => vec![("email", "new@example.test"), ("role", "viewer")],
        "security" => vec![("require_mfa", "on")],
        _ => Vec::new(),
    }
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn every_page_answers_each_role_as_its_permission_says(admin: PgPool) {
    let app = TestApp::new(admin);
    let outsider = signed_in(&app, "owner@elsewhere.test").await;
    app.create_org(&outsider.token, "elsewhere").await;
    let pages: Vec<_> = web::pages()
        .into_iter()
        .filter_map(|route| match route.permission {
            Permission::Org(needed) => Some((route.method, route.path, needed)),
            _ => None,
        })
        .collect();
    assert!(pages.len() >= 20, "the organization pages: {}", pages.len());

    let mut failures = Vec::new();
    for (n, (method, path, needed)) in pages.iter().enumerate() {
        for (c, caller) in CALLERS.into_iter().enumerate() {
            let team = Team::new(&app, &format!("w{n}-{c}")).await;
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
            let request = page(method.clone(), &concrete, token, &form_for(path));
            let (status, headers) = app.send_for_status(request).await;
            let fine = match caller {
                // Pages send a visitor without a session to sign in, and back afterwards.
                Caller::Anonymous => {
                    status == StatusCode::SEE_OTHER
                        && headers[header::LOCATION]
                            .to_str()
                            .unwrap()
                            .starts_with("/signin")
                }
                Caller::OtherOrgOwner => status == StatusCode::NOT_FOUND,
                Caller::Role(role) if needed.allows(role) => passed_the_gate(status),
                Caller::Role(_) => status == StatusCode::FORBIDDEN,
            };
            if !fine {
                failures.push(format!(
                    "{method} {path} ({needed:?}) as {caller:?}: {status}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn signing_in_through_the_form_opens_a_session_that_pages_recognise(admin: PgPool) {
    let app = TestApp::new(admin);
    let password = "a long and unusual passphrase";
    let account = account_with_password(&app, "ada@example.test", password).await;
    let owner = signed_in(&app, "owner@acme.test").await;
    app.create_org(&owner.token, "acme").await;
    app.add_member("acme", account, "member").await;

    let wrong = app
        .send(page(
            Method::POST,
            "/signin",
            None,
            &[
                ("email", "ada@example.test"),
                ("password", "not it"),
                ("next", "/orgs/acme"),
            ],
        ))
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(text(&wrong).contains("do not match"), "{}", text(&wrong));

    let right = app
        .send(page(
            Method::POST,
            "/signin",
            None,
            &[
                ("email", "ada@example.test"),
                ("password", password),
                ("next", "/orgs/acme"),
            ],
        ))
        .await;
    assert_eq!(right.status, StatusCode::SEE_OTHER);
    assert_eq!(right.headers[header::LOCATION], "/orgs/acme");
    let refresh = right
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-refresh="))
        .expect("the session's refresh cookie");
    assert!(
        refresh.contains("HttpOnly") && refresh.contains("Secure"),
        "{refresh}"
    );
    let refresh = refresh.split(';').next().unwrap().to_owned();

    // The first page renews the access token from the refresh cookie and keeps it beside it.
    let request = Request::builder()
        .uri("/orgs/acme")
        .header(header::COOKIE, format!("{refresh}; __Host-csrf={CSRF}"))
        .body(Body::empty())
        .unwrap();
    let overview = app.send(request).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", text(&overview));
    assert!(
        overview
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("__Host-access=")),
        "{:?}",
        overview.headers
    );
    assert!(text(&overview).contains("acme"));
    // A second tab that refreshed with the same token at the same moment is refused, and its
    // answer leaves the cookies the first one set alone.
    let request = Request::builder()
        .uri("/orgs/acme")
        .header(header::COOKIE, format!("{refresh}; __Host-csrf={CSRF}"))
        .body(Body::empty())
        .unwrap();
    let second = app.send(request).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    assert!(
        second.headers.get(header::SET_COOKIE).is_none(),
        "{:?}",
        second.headers
    );
    // A bearer header is no way into pages: they authenticate by their cookies only.
    let request = Request::builder()
        .uri("/orgs/acme")
        .header(header::AUTHORIZATION, format!("Bearer {}", owner.token))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::SEE_OTHER);
    // An open redirect is refused: `next` must be a path of ours.
    let elsewhere = app
        .send(page(
            Method::POST,
            "/signin",
            None,
            &[
                ("email", "ada@example.test"),
                ("password", password),
                ("next", "//evil.test/"),
            ],
        ))
        .await;
    assert_eq!(elsewhere.headers[header::LOCATION], "/");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_form_without_the_right_token_or_from_another_site_is_refused(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let owner = &team.with(Role::Owner).token;
    let path = "/orgs/acme/settings/invitations";
    let form =
        serde_urlencoded::to_string([("email", "x@example.test"), ("role", "viewer")]).unwrap();
    for (cookie, field, site) in [
        (Some(CSRF), None, None),
        (
            Some(CSRF),
            Some("another-token-of-the-same-length-000000000000"),
            None,
        ),
        (None, Some(CSRF), None),
        (Some(CSRF), Some(CSRF), Some("cross-site")),
    ] {
        let mut cookies = vec![format!("__Host-access={owner}")];
        if let Some(value) = cookie {
            cookies.push(format!("__Host-csrf={value}"));
        }
        let body = match field {
            Some(value) => format!("{form}&csrf={value}"),
            None => form.clone(),
        };
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, cookies.join("; "))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        let reply = app.send(request.body(Body::from(body)).unwrap()).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{cookie:?} {field:?} {site:?}"
        );
        assert!(text(&reply).contains("reload the page"), "{}", text(&reply));
    }
    let accepted = app
        .send(page(
            Method::POST,
            path,
            Some(owner),
            &[("email", "x@example.test"), ("role", "viewer")],
        ))
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        team.audit_actions(&app)
            .await
            .iter()
            .filter(|a| *a == "invitation.created")
            .count(),
        1
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_hostile_task_title_renders_as_text_and_pages_carry_a_strict_policy(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let repository: uuid::Uuid = sqlx::query_scalar(
        "insert into repositories (provider, full_name, clone_url)
         values ('git', 'acme/app', 'https://git.example.test/acme/app.git') returning id",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query(
        "insert into tasks (repository_id, source, external_key, title)
         values ($1, 'tasklist', 'TASK-X-1', '<script>alert(1)</script>')",
    )
    .bind(repository)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let viewer = &team.with(Role::Viewer).token;
    let reply = app
        .send(page(Method::GET, "/orgs/acme/tasks", Some(viewer), &[]))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let html = text(&reply);
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    let policy = reply.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        policy.starts_with("default-src 'self'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    assert_eq!(reply.headers[header::X_FRAME_OPTIONS], "DENY");
    // Every script and stylesheet the page names is ours, served with a long cache life.
    for asset in [web::assets::css_href(), web::assets::js_href()] {
        assert!(html.contains(asset), "{asset}");
        let served = app.send(page(Method::GET, asset, None, &[])).await;
        assert_eq!(served.status, StatusCode::OK, "{asset}");
        assert!(
            served.headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }
    // A viewer sees no control that changes repositories, and the forms refuse them.
    let overview = text(
        &app.send(page(Method::GET, "/orgs/acme", Some(viewer), &[]))
            .await,
    );
    assert!(
        overview.contains("acme/app") && !overview.contains("Sync now"),
        "{overview}"
    );
    let connect = app
        .send(page(
            Method::POST,
            "/orgs/acme/settings/repositories",
            Some(viewer),
            &[("url", "https://git.example.test/a/b.git")],
        ))
        .await;
    assert_eq!(connect.status, StatusCode::FORBIDDEN);
    assert!(text(&connect).contains("<h1>403"), "{}", text(&connect));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_change_reaches_every_instance_and_the_event_streams_of_its_organization_only(
    admin: PgPool,
) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let other = Team::new(&app, "other").await;
    let mut mine = app.state.live.subscribe(&app.state.db);
    // A second api instance: its own listener on the same database.
    let second_instance = web::live::Hub::default();
    let mut theirs = second_instance.subscribe(&app.state.db);
    // The listener's first message says it listens (and tells pages to refresh).
    let first = tokio::time::timeout(Duration::from_secs(10), mine.recv())
        .await
        .unwrap()
        .unwrap();
    let first_of_second = tokio::time::timeout(Duration::from_secs(10), theirs.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first_of_second.table, "resync");
    assert_eq!(first.table, "resync");

    let mut tx = app.state.db.tenant(other.tenant).await.unwrap();
    sqlx::query(
        "insert into repositories (provider, full_name, clone_url)
         values ('git', 'other/app', 'https://git.example.test/other/app.git')",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    sqlx::query(
        "insert into repositories (provider, full_name, clone_url)
         values ('git', 'acme/app', 'https://git.example.test/acme/app.git')",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut seen = Vec::new();
    while seen.len() < 2 {
        let change = tokio::time::timeout(Duration::from_secs(10), mine.recv())
            .await
            .unwrap()
            .unwrap();
        seen.push(change);
    }
    assert_eq!(seen[0].tenant, Some(other.tenant));
    assert_eq!(seen[1].tenant, Some(team.tenant));
    assert!(seen.iter().all(|c| c.table == "repositories"), "{seen:?}");
    // Every instance hears every organization's changes, and sends each to its own viewers.
    for expected in [other.tenant, team.tenant] {
        let change = tokio::time::timeout(Duration::from_secs(10), theirs.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(change.tenant, Some(expected));
    }

    // Through the page's stream: the organization's route answers with an event stream.
    let viewer = &team.with(Role::Viewer).token;
    let (status, headers) = app
        .send_for_status(page(Method::GET, "/orgs/acme/events", Some(viewer), &[]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_pages_of_mailed_links_use_their_token_only_when_the_person_presses_the_button(
    admin: PgPool,
) {
    let app = TestApp::new(admin);
    // Opening a link (as a mail scanner would) shows a form; nothing is used up.
    for path in ["/verify-email?token=abc", "/reset-password?token=abc"] {
        let reply = app.send(page(Method::GET, path, None, &[])).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(
            text(&reply).contains(r#"name="token" value="abc""#),
            "{}",
            text(&reply)
        );
    }
    // A link that is not ours is refused in words.
    let reply = app
        .send(page(
            Method::POST,
            "/verify-email",
            None,
            &[("token", "abc")],
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(text(&reply).contains("<h1>400"), "{}", text(&reply));
    // Sign-up and reset answer the same whether or not the address has an account (P5).
    let reply = app
        .send(page(
            Method::POST,
            "/reset",
            None,
            &[("email", "nobody@example.test")],
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(text(&reply).contains("Check your email"));
    let short = app
        .send(page(
            Method::POST,
            "/signup",
            None,
            &[("email", "new@example.test"), ("password", "short")],
        ))
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&short).contains(r#"value="new@example.test""#),
        "{}",
        text(&short)
    );
    // An invitation is accepted by someone signed in: others sign in first and come back.
    let (status, headers) = app
        .send_for_status(page(
            Method::GET,
            "/invitations/accept?token=abc",
            None,
            &[],
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        "/signin?next=%2Finvitations%2Faccept%3Ftoken%3Dabc"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_session_ended_elsewhere_sends_the_browser_to_sign_in_and_a_live_one_skips_it(
    admin: PgPool,
) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let owner = team.with(Role::Owner).token.clone();
    // Signed in: the sign-in page goes on to where the person was going.
    let reply = app
        .send(page(
            Method::GET,
            "/signin?next=%2Forgs%2Facme",
            Some(&owner),
            &[],
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/orgs/acme");

    // Every session ended from another device: the still-unexpired access cookie is refused and
    // dropped, so the next page is the sign-in form rather than a loop.
    // (As `POST /api/v2/auth/signout-everywhere` does, a moment later than this token's issue:
    // tokens are compared by the second.)
    sqlx::query(
        "update app.accounts set tokens_valid_after = now() + interval '1 second' where id = $1",
    )
    .bind(team.with(Role::Owner).id)
    .execute(&app.admin)
    .await
    .unwrap();
    let reply = app
        .send(page(Method::GET, "/orgs/acme", Some(&owner), &[]))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reply.headers[header::LOCATION],
        "/signin?next=%2Forgs%2Facme"
    );
    let dropped = reply.headers.get_all(header::SET_COOKIE).iter().any(|c| {
        let c = c.to_str().unwrap();
        c.starts_with("__Host-access=;") && c.contains("Max-Age=0")
    });
    assert!(dropped, "{:?}", reply.headers);
    let form = app.send(page(Method::GET, "/signin", None, &[])).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(text(&form).contains(r#"name="password""#));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_link_by_meaning_says_how_close_on_the_commit_page(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let mut tx = app.state.db.tenant(team.tenant).await.unwrap();
    let repository: uuid::Uuid = sqlx::query_scalar(
        "insert into repositories (provider, full_name, clone_url)
         values ('git', 'acme/app', 'https://git.example.test/acme/app.git') returning id",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let task: uuid::Uuid = sqlx::query_scalar(
        "insert into tasks (repository_id, source, external_key, title)
         values ($1, 'github_issue', '7', 'Crash when uploading large avatar images') returning id",
    )
    .bind(repository)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    let sha = "ab".repeat(20);
    let commit: uuid::Uuid = sqlx::query_scalar(
        "insert into commits (repository_id, sha, message, committed_at)
         values ($1, $2, 'Avoid the crash on big profile photos', now()) returning id",
    )
    .bind(repository)
    .bind(&sha)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    // As the linker stores a link by meaning (functions/linker/src/link.rs).
    sqlx::query(
        "insert into commit_task_links (commit_id, task_id, method, relation, confidence, state, evidence)
         values ($1, $2, 'similarity', 'references', 0.656, 'active',
                 '{\"score\": 0.11, \"semantic\": 0.656, \"terms\": [\"crash\"]}')",
    )
    .bind(commit)
    .bind(task)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let viewer = &team.with(Role::Viewer).token;
    let reply = app
        .send(page(
            Method::GET,
            &format!("/orgs/acme/commits/{sha}"),
            Some(viewer),
            &[],
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let html = text(&reply);
    assert!(
        html.contains("close in meaning <small>(0.66)</small>, shares <mark>crash</mark>"),
        "{html}"
    );
    assert!(html.contains("(similarity 0.11)"), "{html}");
}
