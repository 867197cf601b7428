//! Access tokens that must not pass (J1–J5, RFC 8725), refresh rotation and reuse (R1–R3), sign-out
//! (R5, J7), the published keys.

use base64::Engine as _;
use chrono::Utc;
use dashboard_api::auth::{
    keys::{SigningKeys, TokenType},
    session::AccessClaims,
};
use http::{Method, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::support::{PUBLIC_URL, TestApp};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn claims(account: Uuid) -> AccessClaims {
    let now = Utc::now().timestamp();
    AccessClaims {
        iss: PUBLIC_URL.into(),
        aud: "dashboard-api".into(),
        sub: account,
        exp: now + 3600,
        nbf: now,
        iat: now,
        jti: Uuid::new_v4(),
        sid: Uuid::new_v4(),
        auth_time: now,
        amr: vec!["pwd".into()],
    }
}

async fn status_with(app: &TestApp, token: &str) -> StatusCode {
    app.call(Method::GET, "/api/v2/orgs/acme", Some(token), None)
        .await
        .status
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn forged_and_misdirected_access_tokens_are_refused(admin: PgPool) {
    let app = TestApp::new(admin);
    let (account, good) = app.person("alice@example.test").await;
    app.create_org(&good, "acme").await;
    assert_eq!(status_with(&app, &good).await, StatusCode::OK);
    let keys = &app.state.config.keys;
    let good_claims = claims(account);
    let signed = |edit: &dyn Fn(&mut AccessClaims)| {
        let mut c = good_claims.clone();
        edit(&mut c);
        keys.sign(TokenType::Access, &c).unwrap()
    };
    let payload = b64(&serde_json::to_vec(&good_claims).unwrap());

    let mut forged = Vec::new();
    // alg none, with and without a signature part.
    let none = b64(br#"{"alg":"none","typ":"at+jwt"}"#);
    forged.push(("alg none", format!("{none}.{payload}.")));
    // HS256 MACed with our public key (key-type confusion).
    let public_x = keys.jwks().keys[0].clone();
    let public_json = serde_json::to_vec(&public_x).unwrap();
    let mut hs = Header::new(Algorithm::HS256);
    hs.typ = Some("at+jwt".into());
    hs.kid = public_x.common.key_id.clone();
    forged.push((
        "HS256 with our public key",
        jsonwebtoken::encode(&hs, &good_claims, &EncodingKey::from_secret(&public_json)).unwrap(),
    ));
    // Signed by another key that claims our kid.
    let other =
        SigningKeys::from_pem(&SigningKeys::generate_pem(), PUBLIC_URL, "dashboard-api").unwrap();
    let stolen_kid = other.sign(TokenType::Access, &good_claims).unwrap();
    let parts: Vec<&str> = stolen_kid.split('.').collect();
    let mut header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[0])
            .unwrap(),
    )
    .unwrap();
    header["kid"] = public_x.common.key_id.clone().into();
    let relabelled = format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        parts[1],
        parts[2]
    );
    forged.push(("another key under our kid", relabelled));
    forged.push(("another key", stolen_kid));
    let now = Utc::now().timestamp();
    forged.push(("expired", signed(&|c| c.exp = now - 120)));
    forged.push(("not yet valid", signed(&|c| c.nbf = now + 600)));
    forged.push(("wrong audience", signed(&|c| c.aud = "another-api".into())));
    forged.push((
        "wrong issuer",
        signed(&|c| c.iss = "https://evil.example".into()),
    ));
    // A token of another type (the MFA step) signed by us.
    forged.push((
        "typ mfa+jwt",
        keys.sign(TokenType::MfaPending, &good_claims).unwrap(),
    ));
    // Unknown kid.
    let mut unknown = header.clone();
    unknown["kid"] = "no-such-key".into();
    let good_parts: Vec<&str> = good.split('.').collect();
    forged.push((
        "unknown kid",
        format!(
            "{}.{}.{}",
            b64(unknown.to_string().as_bytes()),
            good_parts[1],
            good_parts[2]
        ),
    ));
    // A tampered payload under a good signature.
    let mut tampered_claims = good_claims.clone();
    tampered_claims.sub = Uuid::new_v4();
    let tampered_payload = b64(&serde_json::to_vec(&tampered_claims).unwrap());
    forged.push((
        "tampered payload",
        format!("{}.{}.{}", good_parts[0], tampered_payload, good_parts[2]),
    ));
    // A refresh token presented as an access token.
    let tokens = app.sign_in(account).await;
    forged.push(("refresh token as access", tokens.refresh_token));
    // A token without the claims we require.
    forged.push((
        "no jti, sid or amr",
        keys.sign(
            TokenType::Access,
            &json!({
                "iss": PUBLIC_URL, "aud": "dashboard-api", "sub": account,
                "exp": now + 3600, "nbf": now, "iat": now
            }),
        )
        .unwrap(),
    ));

    for (what, token) in forged {
        assert_eq!(
            status_with(&app, &token).await,
            StatusCode::UNAUTHORIZED,
            "{what}"
        );
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn the_public_keys_are_published_with_their_kid(admin: PgPool) {
    let app = TestApp::new(admin);
    let reply = app
        .call(Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let key = &reply.json["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert!(
        key["kid"].as_str().is_some_and(|kid| kid.len() >= 40),
        "{key}"
    );
    assert!(
        key.get("d").is_none(),
        "the private key is published: {key}"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_token_signed_by_the_previous_key_still_passes_after_rotation(admin: PgPool) {
    let old_pem = SigningKeys::generate_pem();
    let new_pem = SigningKeys::generate_pem();
    let old = SigningKeys::from_pem(&old_pem, PUBLIC_URL, "dashboard-api").unwrap();
    let rotated = dashboard_api::ApiConfig::generated(PUBLIC_URL);
    let rotated = dashboard_api::ApiConfig {
        keys: std::sync::Arc::new(
            SigningKeys::from_pem(&format!("{new_pem}{old_pem}"), PUBLIC_URL, "dashboard-api")
                .unwrap(),
        ),
        ..rotated
    };
    let app = TestApp::with_config(admin, rotated);
    let (account, token) = app.person("alice@example.test").await;
    app.create_org(&token, "acme").await;
    let from_old_key = old.sign(TokenType::Access, &claims(account)).unwrap();
    assert_eq!(status_with(&app, &from_old_key).await, StatusCode::OK);
    let jwks = app
        .call(Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(jwks.json["keys"].as_array().unwrap().len(), 2);
}

async fn refresh(app: &TestApp, token: &str) -> crate::support::Reply {
    app.call(
        Method::POST,
        "/api/v2/auth/refresh",
        None,
        Some(json!({ "refresh_token": token })),
    )
    .await
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_refresh_rotates_and_reusing_a_rotated_token_revokes_the_family(admin: PgPool) {
    let app = TestApp::new(admin);
    let account = app.create_account("alice@example.test").await;
    let first = app.sign_in(account).await;

    let second = refresh(&app, &first.refresh_token).await;
    assert_eq!(second.status, StatusCode::OK, "{second:?}");
    assert_eq!(second.json["token_type"], "Bearer");
    assert_eq!(second.json["expires_in"], 3600);
    let second_refresh = second.json["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh_token);

    // The first token was rotated more than the grace ago: pretend so, then replay it.
    sqlx::query("update app.sessions set consumed_at = now() - interval '1 minute' where consumed_at is not null")
        .execute(&app.admin)
        .await
        .unwrap();
    assert_eq!(
        refresh(&app, &first.refresh_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The whole family is gone: the newest token no longer works either.
    assert_eq!(
        refresh(&app, &second_refresh).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Another sign-in of the same account is another family, untouched.
    let other = app.sign_in(account).await;
    assert_eq!(
        refresh(&app, &other.refresh_token).await.status,
        StatusCode::OK
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn two_concurrent_refreshes_of_one_token_have_one_winner(admin: PgPool) {
    let app = TestApp::new(admin);
    let account = app.create_account("alice@example.test").await;
    let first = app.sign_in(account).await;

    let (a, b) = tokio::join!(
        refresh(&app, &first.refresh_token),
        refresh(&app, &first.refresh_token)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNAUTHORIZED]);
    let winner = if a.status == StatusCode::OK { a } else { b };
    // The loser did not take the winner's session down with it.
    let next = winner.json["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&app, next).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn sign_out_ends_the_session_and_sign_out_everywhere_ends_every_token(admin: PgPool) {
    let app = TestApp::new(admin);
    let account = app.create_account("alice@example.test").await;
    let laptop = app.sign_in(account).await;
    let phone = app.sign_in(account).await;
    // The phone's access token was issued a little earlier: one of the very second of the cut-off
    // would still pass (`iat` has whole seconds).
    let mut earlier = claims(account);
    earlier.iat -= 5;
    let phone_access = app
        .state
        .config
        .keys
        .sign(TokenType::Access, &earlier)
        .unwrap();
    app.create_org(&laptop.access_token, "acme").await;

    let out = app
        .call(
            Method::POST,
            "/api/v2/auth/signout",
            Some(&laptop.access_token),
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("__Host-refresh=;"),
        "{out:?}"
    );
    assert_eq!(
        refresh(&app, &laptop.refresh_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(status_with(&app, &phone_access).await, StatusCode::OK);

    let everywhere = app
        .call(
            Method::POST,
            "/api/v2/auth/signout-everywhere",
            Some(&phone_access),
            None,
        )
        .await;
    assert_eq!(everywhere.status, StatusCode::NO_CONTENT);
    assert_eq!(
        status_with(&app, &phone_access).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, &phone.refresh_token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// An access token of `account` whose last proof of identity is `minutes_ago` old.
fn stale_token(app: &TestApp, account: Uuid, minutes_ago: i64) -> String {
    let mut c = claims(account);
    c.auth_time -= minutes_ago * 60;
    app.state.config.keys.sign(TokenType::Access, &c).unwrap()
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_stolen_access_token_cannot_enrol_its_own_authenticator(admin: PgPool) {
    let app = TestApp::new(admin);
    let account = app.create_account("alice@example.test").await;
    let stale = stale_token(&app, account, 11);
    let enrol = app
        .call(Method::POST, "/api/v2/user/mfa/totp", Some(&stale), None)
        .await;
    assert_eq!(enrol.status, StatusCode::FORBIDDEN, "{enrol:?}");
    let confirm = app
        .call(
            Method::POST,
            "/api/v2/user/mfa/totp/confirm",
            Some(&stale),
            Some(json!({ "code": "123456" })),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::FORBIDDEN, "{confirm:?}");
    let fresh = stale_token(&app, account, 0);
    let enrol = app
        .call(Method::POST, "/api/v2/user/mfa/totp", Some(&fresh), None)
        .await;
    assert_eq!(enrol.status, StatusCode::OK, "{enrol:?}");
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_browser_gets_the_refresh_token_only_as_a_cookie_and_an_api_client_only_as_json(
    admin: PgPool,
) {
    let app = TestApp::new(admin);
    let account = app.create_account("alice@example.test").await;
    let api_client = refresh(&app, &app.sign_in(account).await.refresh_token).await;
    assert!(api_client.json["refresh_token"].is_string());
    assert!(
        api_client.headers.get("set-cookie").is_none(),
        "{api_client:?}"
    );

    let request = http::Request::post("/api/v2/auth/refresh")
        .header("sec-fetch-mode", "cors")
        .header(
            "cookie",
            format!(
                "__Host-refresh={}",
                app.sign_in(account).await.refresh_token
            ),
        )
        .body(axum::body::Body::empty())
        .unwrap();
    let browser = app.send(request).await;
    assert_eq!(browser.status, StatusCode::OK, "{browser:?}");
    assert!(browser.json["access_token"].is_string());
    assert!(browser.json.get("refresh_token").is_none(), "{browser:?}");
    let cookie = browser.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-refresh=dash_rt_"), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn two_refreshes_racing_on_the_same_row_have_one_winner(admin: PgPool) {
    let app = TestApp::new(admin);
    let account = app.create_account("alice@example.test").await;
    let first = app.sign_in(account).await;
    // Hold the session row so both refreshes reach the consuming update and queue behind it.
    let mut blocker = app.admin.begin().await.unwrap();
    sqlx::query("select 1 from app.sessions where account_id = $1 for update")
        .bind(account)
        .execute(&mut *blocker)
        .await
        .unwrap();
    let release = async {
        // Both refreshes are waiting on the lock (two blocked backends); then it is released.
        for _ in 0..200 {
            let waiting: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity
                 where wait_event_type = 'Lock' and datname = current_database()",
            )
            .fetch_one(&app.admin)
            .await
            .unwrap();
            if waiting >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        blocker.rollback().await.unwrap();
    };
    let (a, b, ()) = tokio::join!(
        refresh(&app, &first.refresh_token),
        refresh(&app, &first.refresh_token),
        release
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNAUTHORIZED]);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn handing_over_ownership_needs_a_recent_proof_of_identity(admin: PgPool) {
    let app = TestApp::new(admin);
    let (alice, fresh) = app.person("alice@example.test").await;
    let (bob, _) = app.person("bob@example.test").await;
    app.create_org(&fresh, "acme").await;
    app.add_member("acme", bob, "admin").await;
    let path = format!("/api/v2/orgs/acme/members/{bob}");
    let promote = Some(json!({ "role": "owner" }));

    let stale = stale_token(&app, alice, 11);
    let refused = app
        .call(Method::PATCH, &path, Some(&stale), promote.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    let demote_admin = app
        .call(
            Method::PATCH,
            &path,
            Some(&stale),
            Some(json!({ "role": "member" })),
        )
        .await;
    assert_eq!(
        demote_admin.status,
        StatusCode::NO_CONTENT,
        "other changes need no new proof"
    );
    let done = app.call(Method::PATCH, &path, Some(&fresh), promote).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{done:?}");
}
