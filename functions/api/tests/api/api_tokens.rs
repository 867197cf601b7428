//! Personal API tokens (G5): shown once, stored hashed, scoped to at most the creator's role (never
//! owner), expiring, revocable, minted only from a signed-in session (with a second factor where the
//! organization requires one).

use dashboard_api::auth::opaque;
use http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::{
    support::TestApp,
    team::{Team, with_second_factor},
};

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_token_is_shown_once_stored_hashed_and_acts_with_its_role(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;

    let created = team
        .call(
            &app,
            &team.member,
            Method::POST,
            "/tokens",
            Some(json!({ "name": " ci " })),
        )
        .await;

    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let token = created.json["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("dash_pat_"));
    assert_eq!(created.json["prefix"], token[..13]);
    assert_eq!(created.json["name"], "ci");
    assert_eq!(created.json["role"], "member");
    let (hash, days): (Vec<u8>, f64) = sqlx::query_as(
        "select token_hash, (extract(epoch from expires_at - created_at) / 86400)::float8 from app.api_tokens",
    )
    .fetch_one(&app.admin)
    .await
    .unwrap();
    assert_eq!(hash, opaque::hash(&token));
    assert_eq!(days.round(), 90.0);
    let listed = team
        .call(&app, &team.member, Method::GET, "/tokens", None)
        .await;
    assert_eq!(listed.json[0]["id"], created.json["id"]);
    assert!(
        !listed.json.to_string().contains(&token[13..]),
        "{listed:?}"
    );

    let read = app
        .call(Method::GET, &team.path("/members"), Some(&token), None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{read:?}");
    let rename = app
        .call(
            Method::PATCH,
            &team.path(""),
            Some(&token),
            Some(json!({ "name": "x" })),
        )
        .await;
    assert_eq!(rename.status, StatusCode::FORBIDDEN, "{rename:?}");
    let elsewhere = Team::new(&app, "other").await;
    let other = app
        .call(Method::GET, &elsewhere.path("/members"), Some(&token), None)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{other:?}");
    let used: bool = sqlx::query_scalar("select last_used_at is not null from app.api_tokens")
        .fetch_one(&app.admin)
        .await
        .unwrap();
    assert!(used);
    assert_eq!(team.audit_actions(&app).await[0], "api_token.created");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn nobody_gets_a_token_above_their_role_nor_an_owner_token(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let create = |who, body| team.call(&app, who, Method::POST, "/tokens", Some(body));

    let viewer_default = create(&team.viewer, json!({ "name": "ci" })).await;
    let viewer_above = create(&team.viewer, json!({ "name": "ci", "role": "member" })).await;
    let owner_default = create(&team.owner, json!({ "name": "ci" })).await;
    let owner_as_owner = create(&team.owner, json!({ "name": "ci", "role": "owner" })).await;

    assert_eq!(viewer_default.json["role"], "viewer", "{viewer_default:?}");
    assert_eq!(
        viewer_above.status,
        StatusCode::FORBIDDEN,
        "{viewer_above:?}"
    );
    assert_eq!(owner_default.json["role"], "admin", "{owner_default:?}");
    assert_eq!(owner_as_owner.status, StatusCode::UNPROCESSABLE_ENTITY);
    for bad in [
        json!({ "name": "" }),
        json!({ "name": "ci", "expires_in_days": 0 }),
        json!({ "name": "ci", "expires_in_days": 367 }),
    ] {
        let reply = create(&team.member, bad.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {reply:?}"
        );
    }
    let year = create(
        &team.member,
        json!({ "name": "ci", "expires_in_days": 366 }),
    )
    .await;
    assert_eq!(year.status, StatusCode::CREATED);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_api_token_cannot_mint_tokens_nor_can_a_session_without_mfa_where_required(
    admin: PgPool,
) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let (_, token) = team.api_token(&app, &team.admin, "admin").await;
    let body = Some(json!({ "name": "more" }));

    let minted = app
        .call(
            Method::POST,
            &team.path("/tokens"),
            Some(&token),
            body.clone(),
        )
        .await;
    assert_eq!(minted.status, StatusCode::FORBIDDEN, "{minted:?}");

    sqlx::query("update app.tenants set require_mfa = true")
        .execute(&app.admin)
        .await
        .unwrap();
    let password_only = team
        .call(&app, &team.member, Method::POST, "/tokens", body.clone())
        .await;
    assert_eq!(
        password_only.status,
        StatusCode::FORBIDDEN,
        "{password_only:?}"
    );
    let two_factors = with_second_factor(&app, &team.member).await;
    let with_mfa = team
        .call(&app, &two_factors, Method::POST, "/tokens", body)
        .await;
    assert_eq!(with_mfa.status, StatusCode::CREATED, "{with_mfa:?}");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn members_see_and_revoke_their_own_tokens_and_admins_everyones(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let (mine, my_secret) = team.api_token(&app, &team.member, "member").await;
    let (admins, _) = team.api_token(&app, &team.admin, "viewer").await;
    let count = |reply: &crate::support::Reply| reply.json.as_array().unwrap().len();

    let member_sees = team
        .call(&app, &team.member, Method::GET, "/tokens", None)
        .await;
    let admin_sees = team
        .call(&app, &team.admin, Method::GET, "/tokens", None)
        .await;
    assert_eq!(count(&member_sees), 1);
    assert_eq!(count(&admin_sees), 2);
    let not_theirs = team
        .call(
            &app,
            &team.member,
            Method::DELETE,
            format!("/tokens/{admins}"),
            None,
        )
        .await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND, "{not_theirs:?}");

    let revoked = team
        .call(
            &app,
            &team.admin,
            Method::DELETE,
            format!("/tokens/{mine}"),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{revoked:?}");
    let refused = app
        .call(Method::GET, &team.path("/members"), Some(&my_secret), None)
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let again = team
        .call(
            &app,
            &team.admin,
            Method::DELETE,
            format!("/tokens/{mine}"),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(team.audit_actions(&app).await[0], "api_token.revoked");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_expired_token_is_refused_and_a_demoted_creator_caps_it(admin: PgPool) {
    let app = TestApp::new(admin);
    let team = Team::new(&app, "acme").await;
    let (_, old) = team.api_token(&app, &team.member, "member").await;
    let (_, admin_token) = team.api_token(&app, &team.admin, "admin").await;
    sqlx::query(
        "update app.api_tokens set expires_at = now() - interval '1 second' where role = 'member'",
    )
    .execute(&app.admin)
    .await
    .unwrap();

    let expired = app
        .call(Method::GET, &team.path("/members"), Some(&old), None)
        .await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);

    let audit = app
        .call(
            Method::GET,
            &team.path("/audit-log"),
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(audit.status, StatusCode::OK);
    let demote = team
        .call(
            &app,
            &team.owner,
            Method::PATCH,
            format!("/members/{}", team.admin.id),
            Some(json!({ "role": "viewer" })),
        )
        .await;
    assert_eq!(demote.status, StatusCode::NO_CONTENT);
    let capped = app
        .call(
            Method::GET,
            &team.path("/audit-log"),
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(capped.status, StatusCode::FORBIDDEN);
}
