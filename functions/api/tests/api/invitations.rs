//! Invitations: mailed through a real SMTP server (aiosmtpd), never returned by the API, accepted
//! once by a signed-in account whose verified address is the invited one.

use dashboard_api::{ApiConfig, auth::mail::Mailer, testing::SmtpSink};
use dashboard_shared::config::Env;
use http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    support::{PUBLIC_URL, TestApp},
    team::{Team, signed_in},
};

/// The api function mailing through `sink`.
pub fn app_mailing_to(admin: PgPool, sink: &SmtpSink) -> TestApp {
    let mut config = ApiConfig::generated(PUBLIC_URL);
    let env = Env::from_pairs(&[("SMTP_URL", sink.url())]);
    config.mailer = Mailer::from_env(&env, std::path::Path::new("/nonexistent")).unwrap();
    TestApp::with_config(admin, config)
}

/// Invites `email` as `role` as the team's owner and reads the token from the mail.
pub async fn invite(
    app: &TestApp,
    sink: &SmtpSink,
    team: &Team,
    email: &str,
    role: &str,
) -> String {
    let body = json!({ "email": email, "role": role });
    let reply = team
        .call(app, &team.owner, Method::POST, "/invitations", Some(body))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert!(!reply.json.to_string().contains("dash_inv_"), "{reply:?}");
    let mail = sink.next_message().await.unwrap();
    assert_eq!(mail.to, [email]);
    let link = mail.link().unwrap();
    let prefix = format!("{PUBLIC_URL}/invitations/accept?token=");
    assert!(link.starts_with(&prefix), "{link}");
    link[prefix.len()..].to_owned()
}

pub async fn accept(app: &TestApp, bearer: &str, token: &str) -> crate::support::Reply {
    app.call(
        Method::POST,
        "/api/v2/invitations/accept",
        Some(bearer),
        Some(json!({ "token": token })),
    )
    .await
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_invitation_is_mailed_and_accepted_once_by_the_verified_invited_address(admin: PgPool) {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_mailing_to(admin, &sink);
    let team = Team::new(&app, "acme").await;
    let token = invite(&app, &sink, &team, "bob@example.test", "member").await;
    let pending = team
        .call(&app, &team.admin, Method::GET, "/invitations", None)
        .await;
    assert_eq!(pending.json[0]["email"], "bob@example.test");
    assert_eq!(pending.json[0]["role"], "member");
    let mallory = signed_in(&app, "mallory@example.test").await;
    let bob = signed_in(&app, "bob@example.test").await;
    sqlx::query("update app.accounts set email_verified_at = null where id = $1")
        .bind(bob.id)
        .execute(&app.admin)
        .await
        .unwrap();

    let someone_else = accept(&app, &mallory.token, &token).await;
    let unverified = accept(&app, &bob.token, &token).await;
    assert_eq!(
        someone_else.status,
        StatusCode::FORBIDDEN,
        "{someone_else:?}"
    );
    assert_eq!(unverified.status, StatusCode::FORBIDDEN, "{unverified:?}");

    sqlx::query("update app.accounts set email_verified_at = now() where id = $1")
        .bind(bob.id)
        .execute(&app.admin)
        .await
        .unwrap();
    let joined = accept(&app, &bob.token, &token).await;
    assert_eq!(joined.status, StatusCode::OK, "{joined:?}");
    assert_eq!(
        joined.json,
        json!({ "slug": "acme", "name": "acme", "role": "member" })
    );
    assert_eq!(team.role_of(&app, bob.id).await.as_deref(), Some("member"));
    let again = accept(&app, &bob.token, &token).await;
    assert_eq!(again.status, StatusCode::GONE, "{again:?}");
    let pending = team
        .call(&app, &team.admin, Method::GET, "/invitations", None)
        .await;
    assert_eq!(pending.json, json!([]));
    let actions = team.audit_actions(&app).await;
    assert_eq!(actions[..2], ["invitation.accepted", "invitation.created"]);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_revoked_or_expired_invitation_is_gone_and_an_unknown_one_not_found(admin: PgPool) {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_mailing_to(admin, &sink);
    let team = Team::new(&app, "acme").await;
    let revoked = invite(&app, &sink, &team, "carol@example.test", "viewer").await;
    let expired = invite(&app, &sink, &team, "dave@example.test", "viewer").await;
    let pending = team
        .call(&app, &team.admin, Method::GET, "/invitations", None)
        .await;
    let carol_id = pending
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "carol@example.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = team
        .call(
            &app,
            &team.admin,
            Method::DELETE,
            format!("/invitations/{carol_id}"),
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT, "{revoke:?}");
    sqlx::query(
        "update app.invitations set expires_at = now() - interval '1 second' where email = $1",
    )
    .bind("dave@example.test")
    .execute(&app.admin)
    .await
    .unwrap();
    let carol = signed_in(&app, "carol@example.test").await;
    let dave = signed_in(&app, "dave@example.test").await;

    let was_revoked = accept(&app, &carol.token, &revoked).await;
    let has_expired = accept(&app, &dave.token, &expired).await;
    let unknown = accept(&app, &dave.token, "dash_inv_not-a-real-one").await;

    assert_eq!(was_revoked.status, StatusCode::GONE, "{was_revoked:?}");
    assert!(
        was_revoked.json["detail"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    assert_eq!(has_expired.status, StatusCode::GONE, "{has_expired:?}");
    assert!(
        has_expired.json["detail"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{unknown:?}");
    assert_eq!(team.role_of(&app, carol.id).await, None);
    assert_eq!(team.role_of(&app, dave.id).await, None);
    let anonymous = app
        .call(
            Method::POST,
            "/api/v2/invitations/accept",
            None,
            Some(json!({ "token": revoked })),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn members_and_pending_invitees_are_not_invited_again_and_members_cannot_accept(
    admin: PgPool,
) {
    let sink = SmtpSink::start().await.unwrap();
    let app = app_mailing_to(admin, &sink);
    let team = Team::new(&app, "acme").await;
    let token = invite(&app, &sink, &team, "erin@example.test", "viewer").await;
    let new = |email: &str| Some(json!({ "email": email, "role": "viewer" }));

    let member = team
        .call(
            &app,
            &team.owner,
            Method::POST,
            "/invitations",
            new("Member1@acme.test"),
        )
        .await;
    let pending = team
        .call(
            &app,
            &team.owner,
            Method::POST,
            "/invitations",
            new("ERIN@example.test"),
        )
        .await;
    let malformed = team
        .call(
            &app,
            &team.owner,
            Method::POST,
            "/invitations",
            new("two@a.test, b@c.test"),
        )
        .await;
    assert_eq!(member.status, StatusCode::CONFLICT, "{member:?}");
    assert_eq!(pending.status, StatusCode::CONFLICT, "{pending:?}");
    assert_eq!(
        malformed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{malformed:?}"
    );

    let erin = signed_in(&app, "erin@example.test").await;
    app.add_member("acme", erin.id, "member").await;
    let already = accept(&app, &erin.token, &token).await;
    assert_eq!(already.status, StatusCode::CONFLICT, "{already:?}");
    assert_eq!(team.role_of(&app, erin.id).await.as_deref(), Some("member"));
}
