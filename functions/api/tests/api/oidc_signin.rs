//! Sign-in through a real OpenID provider (npm `oidc-provider`): the whole code flow, the checks
//! of state, PKCE, issuer and nonce, and linking only on a verified email (O8).

use http::{Method, StatusCode, header};
use sqlx::PgPool;

use crate::{
    providers_support::{Idp, access_token, authorize, get, set_cookie, start, tamper},
    support::{Reply, TestApp},
};

/// A whole sign-in as `user`: start, the provider's pages, our callback.
async fn sign_in(app: &TestApp, user: &str) -> Reply {
    let started = start(app, "oidc").await;
    let callback = authorize(&started.location, user).await;
    get(app, &callback, Some(&started.flow_cookie)).await
}

fn location(reply: &Reply) -> &str {
    reply.headers[header::LOCATION].to_str().unwrap()
}

async fn user(app: &TestApp, token: &str) -> serde_json::Value {
    let reply = app
        .call(Method::GET, "/api/v2/user", Some(token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_code_flow_creates_an_account_and_a_second_sign_in_finds_it(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());

    let providers = app
        .call(Method::GET, "/api/v2/auth/providers", None, None)
        .await;
    assert_eq!(
        providers.json,
        serde_json::json!([{ "name": "oidc", "label": "Test SSO",
            "start_url": "http://127.0.0.1:8080/api/v2/auth/oidc/start" }])
    );
    let started = start(&app, "oidc").await;
    assert!(
        started
            .location
            .starts_with(&format!("{}/auth?", idp.issuer))
    );
    assert!(started.location.contains("code_challenge_method=S256"));
    assert!(started.location.contains("nonce="));

    let first = sign_in(&app, "alice").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{first:?}");
    assert_eq!(location(&first), "/orgs");
    let token = access_token(&app, &first).await;
    let alice = user(&app, &token).await;
    assert_eq!(alice["email"], "alice@example.test");
    assert_eq!(alice["email_verified"], true);
    assert_eq!(alice["has_password"], false);

    let second = sign_in(&app, "alice").await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{second:?}");
    let again = user(&app, &access_token(&app, &second).await).await;
    assert_eq!(again["id"], alice["id"]);
    let accounts: i64 = sqlx::query_scalar("select count(*) from app.accounts")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(accounts, 1);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_wrong_pkce_verifier_is_refused_by_the_provider(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());
    let started = start(&app, "oidc").await;
    let callback = authorize(&started.location, "alice").await;
    let forged = tamper(&started.flow_cookie, "verifier", &"x".repeat(43));

    let reply = get(&app, &callback, Some(&forged)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert!(
        reply.json["detail"]
            .as_str()
            .unwrap()
            .contains("invalid_grant"),
        "{reply:?}"
    );
    assert!(set_cookie(&reply, "__Host-refresh").is_none());
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_wrong_state_and_a_replayed_state_are_refused(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());
    let started = start(&app, "oidc").await;
    let callback = authorize(&started.location, "alice").await;

    let state = callback
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let wrong = callback.replace(state, "not-the-state");
    let reply = get(&app, &wrong, Some(&started.flow_cookie)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert!(reply.json["detail"].as_str().unwrap().contains("state"));

    let first = get(&app, &callback, Some(&started.flow_cookie)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{first:?}");
    let replay = get(&app, &callback, Some(&started.flow_cookie)).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{replay:?}");
    assert!(replay.json["detail"].as_str().unwrap().contains("already"));

    let no_cookie = get(&app, &callback, None).await;
    assert_eq!(no_cookie.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_wrong_issuer_in_the_answer_is_refused(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());
    let started = start(&app, "oidc").await;
    let callback = authorize(&started.location, "alice").await;
    assert!(callback.contains("iss="), "{callback}");

    let own = serde_urlencoded::to_string([("iss", &idp.issuer)]).unwrap();
    let evil = serde_urlencoded::to_string([("iss", "https://evil.example")]).unwrap();
    let reply = get(
        &app,
        &callback.replace(&own, &evil),
        Some(&started.flow_cookie),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert!(reply.json["detail"].as_str().unwrap().contains("provider"));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_wrong_nonce_is_refused(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());
    let started = start(&app, "oidc").await;
    let callback = authorize(&started.location, "alice").await;
    let forged = tamper(&started.flow_cookie, "nonce", "another-nonce");

    let reply = get(&app, &callback, Some(&forged)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert!(
        reply.json["detail"].as_str().unwrap().contains("nonce"),
        "{reply:?}"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_unverified_email_is_not_linked_to_the_account_that_holds_it(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());
    let victim = app.create_account("mallory@example.test").await;

    let reply = sign_in(&app, "mallory").await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{reply:?}");
    assert!(set_cookie(&reply, "__Host-refresh").is_none());
    let identities: i64 =
        sqlx::query_scalar("select count(*) from app.identities where account_id = $1")
            .bind(victim)
            .fetch_one(&app.admin)
            .await
            .unwrap();
    assert_eq!(identities, 0);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_unverified_email_makes_an_account_whose_address_is_unverified(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());
    let reply = sign_in(&app, "mallory").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{reply:?}");
    let mallory = user(&app, &access_token(&app, &reply).await).await;
    assert_eq!(mallory["email"], "mallory@example.test");
    assert_eq!(mallory["email_verified"], false);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_verified_email_links_to_the_verified_account_that_holds_it(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());
    let bob = app.create_account("bob@example.test").await;

    let reply = sign_in(&app, "bob").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{reply:?}");
    let me = user(&app, &access_token(&app, &reply).await).await;
    assert_eq!(me["id"], bob.to_string());
    let linked: Vec<(String, String)> =
        sqlx::query_as("select provider, subject from app.identities where account_id = $1")
            .bind(bob)
            .fetch_all(&app.admin)
            .await
            .unwrap();
    assert_eq!(linked, [("oidc".to_owned(), "bob".to_owned())]);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_account_with_mfa_gets_an_mfa_token_not_tokens(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());
    let bob = app.create_account("bob@example.test").await;
    sqlx::query("update app.accounts set mfa_enabled = true where id = $1")
        .bind(bob)
        .execute(&app.admin)
        .await
        .unwrap();

    let reply = sign_in(&app, "bob").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{reply:?}");
    assert_eq!(location(&reply), "/signin/mfa");
    assert!(set_cookie(&reply, "__Host-refresh").is_none());
    let mfa = set_cookie(&reply, "__Host-mfa").expect("the MFA token is in its cookie");
    assert!(mfa.len() > "__Host-mfa=".len() + 100);
    let sessions: i64 = sqlx::query_scalar("select count(*) from app.sessions")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_unknown_provider_or_a_foreign_return_to_is_refused(admin: PgPool) {
    let idp = Idp::start().await;
    let app = TestApp::with_config(admin, idp.config());
    let unknown = get(&app, "/api/v2/auth/google/start", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let foreign = get(
        &app,
        "/api/v2/auth/oidc/start?return_to=//evil.example",
        None,
    )
    .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
}
