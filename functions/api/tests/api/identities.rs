//! A person's identities at providers: listed, removable, never the last way in.

use http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::TestApp;

async fn add_identity(app: &TestApp, account: Uuid, provider: &str, subject: &str) {
    sqlx::query(
        "insert into app.identities (provider, subject, account_id, email) values ($1, $2, $3, $4)",
    )
    .bind(provider)
    .bind(subject)
    .bind(account)
    .bind(format!("{subject}@example.test"))
    .execute(&app.admin)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_person_sees_only_their_own_identities(admin: PgPool) {
    let app = TestApp::new(admin);
    let (alice, token) = app.person("alice@example.test").await;
    let (bob, _) = app.person("bob@example.test").await;
    add_identity(&app, alice, "github", "1").await;
    add_identity(&app, bob, "google", "2").await;

    let reply = app
        .call(Method::GET, "/api/v2/user/identities", Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let list = reply.json.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["provider"], "github");
    assert_eq!(list[0]["email"], "1@example.test");
    assert!(list[0].get("subject").is_none());
    let anonymous = app
        .call(Method::GET, "/api/v2/user/identities", None, None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_last_way_in_cannot_be_removed(admin: PgPool) {
    let app = TestApp::new(admin);
    let (alice, token) = app.person("alice@example.test").await;
    add_identity(&app, alice, "github", "1").await;
    add_identity(&app, alice, "google", "2").await;

    let first = app
        .call(
            Method::DELETE,
            "/api/v2/user/identities/google",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(first.status, StatusCode::NO_CONTENT, "{first:?}");
    let last = app
        .call(
            Method::DELETE,
            "/api/v2/user/identities/github",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{last:?}");
    assert!(
        last.json["detail"]
            .as_str()
            .unwrap()
            .contains("only way to sign in")
    );
    let gone = app
        .call(
            Method::DELETE,
            "/api/v2/user/identities/google",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    let left = app
        .call(Method::GET, "/api/v2/user/identities", Some(&token), None)
        .await;
    assert_eq!(left.json.as_array().unwrap().len(), 1);
    assert_eq!(left.json[0]["provider"], json!("github"));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_only_identity_of_an_account_with_a_password_can_be_removed(admin: PgPool) {
    let app = TestApp::new(admin);
    let (alice, token) = app.person("alice@example.test").await;
    add_identity(&app, alice, "github", "1").await;
    sqlx::query("update app.accounts set password_hash = '$argon2id$placeholder' where id = $1")
        .bind(alice)
        .execute(&app.admin)
        .await
        .unwrap();

    let reply = app
        .call(
            Method::DELETE,
            "/api/v2/user/identities/github",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{reply:?}");
}
